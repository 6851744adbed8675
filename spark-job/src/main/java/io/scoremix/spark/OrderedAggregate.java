package io.scoremix.spark;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.function.Function2;
import scala.Tuple2;

/**
 * A tree reduction of one value per partition whose merge order depends only on the partition indices,
 * so that floating-point sums come out bit for bit the same on every run with the same partitioning.
 *
 * <p>Implementation notes. Spark's {@code treeAggregate} merges shuffled values in fetch order and its
 * final {@code fold} in task-completion order: both vary from run to run, and floating-point addition is
 * not associative, so the same input could give models differing in the last bits. Here every value
 * carries its partition index; each tree level groups contiguous index ranges of {@code scale} values
 * ({@code scale = ceil(P^(1/depth))}, at least 2, as in Spark), sorts each group by index and merges it
 * left to right; the driver merges the last level in index order. Depth 1 collects every partition's
 * value to the driver.
 */
final class OrderedAggregate {

    private OrderedAggregate() {
    }

    /**
     * Merges the values of {@code values} (at most one per partition is expected; several are merged in
     * order too) in partition-index order.
     *
     * @param merge associative; may modify and return its first argument
     * @return the merged value, or null if there are no values
     */
    static <T extends Serializable> T reduce(JavaRDD<T> values, Function2<T, T, T> merge, int depth) throws Exception {
        JavaPairRDD<Long, T> level = values.mapPartitionsWithIndex((Integer p, Iterator<T> it) -> {
            List<Tuple2<Long, T>> out = new ArrayList<>(1);
            T acc = null;
            while (it.hasNext()) {
                T v = it.next();
                acc = acc == null ? v : merge.call(acc, v);
            }
            if (acc != null) {
                out.add(new Tuple2<>((long) p, acc));
            }
            return out.iterator();
        }, true).mapToPair(t -> t);
        long count = values.getNumPartitions();
        if (depth > 1 && count > 2) {
            long scale = Math.max((long) Math.ceil(Math.pow(count, 1.0 / depth)), 2);
            while (count > scale + (count + scale - 1) / scale) {
                final long s = scale;
                long groups = (count + s - 1) / s;
                level = level.mapToPair(t -> new Tuple2<>(t._1() / s, t))
                        .groupByKey((int) Math.min(groups, Integer.MAX_VALUE))
                        .mapToPair(g -> new Tuple2<>(g._1(), mergeSorted(g._2(), merge)));
                count = groups;
            }
        }
        List<Tuple2<Long, T>> last = new ArrayList<>(level.collect());
        return last.isEmpty() ? null : mergeSorted(last, merge);
    }

    private static <T> T mergeSorted(Iterable<Tuple2<Long, T>> group, Function2<T, T, T> merge) throws Exception {
        List<Tuple2<Long, T>> list = new ArrayList<>();
        group.forEach(list::add);
        list.sort(Comparator.comparingLong(Tuple2::_1));
        T acc = list.get(0)._2();
        for (int i = 1; i < list.size(); i++) {
            acc = merge.call(acc, list.get(i)._2());
        }
        return acc;
    }
}
