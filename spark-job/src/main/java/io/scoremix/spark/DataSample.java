package io.scoremix.spark;

import io.scoremix.core.random.CounterRandom;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.function.Function2;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * A uniform subsample of at most {@code maxRows} rows of a data set (a folder of samples, test data or
 * training data), read with {@code fit}'s reader ({@link FitInput}: the same formats, column rules and bad-row
 * messages naming file, row and problem) and collected on the driver as an n x d row-major array in a
 * seeded random order (so its even and odd rows are two random halves).
 *
 * <p>Implementation notes. Pass 1 validates and counts the rows of every partition (a bad row stops it with
 * exit code 2). Row r in read order (the partition's offset plus its position) is kept when the
 * counter-based uniform of (seed, r) is below {@code maxRows / rows}, as in fit's crude sample, then the
 * kept rows are shuffled by Fisher-Yates with the same generator: the subsample depends on the data, their
 * read order and the seed only.
 *
 * @param x        n x d rows, row-major
 * @param rows     n, the rows kept
 * @param total    rows in the whole input
 * @param features the column names, in order
 * @param source   the input path
 */
public record DataSample(double[] x, int rows, long total, List<String> features, String source) {

    private static final long STREAM = CounterRandom.stream(0x7375627361L);
    private static final int BLOCK_ROWS = 4096;

    /**
     * Reads a subsample.
     *
     * @param features the feature columns (empty: fit's default, every numeric column)
     * @throws BadInputException if the input is missing, a column is missing or not numeric, or a row is bad
     */
    public static DataSample read(SparkSession spark, String input, InputFormat format, List<String> features,
                                  int maxRows, long seed) {
        if (maxRows < 1) {
            throw new BadInputException("the subsample size must be at least 1 (got " + maxRows + ")");
        }
        FitConfig config = FitConfig.of(input, 1, "-").withFormat(format).withFeatures(features).withSeed(seed);
        FitInput in = FitInput.open(spark, config);
        FitInput.RowParser parser = in.parser();
        JavaRDD<Row> rows = in.frame().javaRDD();
        List<Count> counts = new ArrayList<>(rows.mapPartitionsWithIndex(new CountPass(parser), true).collect());
        counts.sort(Comparator.comparingInt(Count::partition));
        long[] offsets = new long[counts.size() + 1];
        for (Count c : counts) {
            if (c.bad() != null) {
                throw new BadInputException(parser.message(c.bad()));
            }
            offsets[c.partition() + 1] = c.rows();
        }
        for (int p = 0; p < counts.size(); p++) {
            offsets[p + 1] += offsets[p];
        }
        long total = offsets[counts.size()];
        if (total == 0) {
            throw new BadInputException("the input " + input + " has no rows");
        }
        double fraction = Math.min(1.0, (double) maxRows / total);
        List<double[]> parts = new ArrayList<>(rows.mapPartitionsWithIndex(
                new KeepPass(parser, offsets, fraction, seed), true).collect());
        int d = parser.dimension();
        int n = 0;
        for (double[] part : parts) {
            n += part.length / d;
        }
        double[] x = new double[n * d];
        int at = 0;
        for (double[] part : parts) {
            System.arraycopy(part, 0, x, at, part.length);
            at += part.length;
        }
        // Shuffle, then cut to maxRows: the Bernoulli draw can keep a few more, and the cut must not favour
        // the first partitions.
        shuffle(x, n, d, CounterRandom.of(seed));
        if (n > maxRows) {
            x = Arrays.copyOf(x, maxRows * d);
            n = maxRows;
        }
        return new DataSample(x, n, total, in.features(), input);
    }

    /** Fisher-Yates on the rows of x, uniform j from counter i of the shuffle stream. */
    static void shuffle(double[] x, int n, int d, CounterRandom rng) {
        double[] tmp = new double[d];
        for (int i = n - 1; i > 0; i--) {
            int j = (int) Math.min(i, Math.floor(rng.uniform(STREAM + 1, i) * (i + 1)));
            if (j != i) {
                System.arraycopy(x, i * d, tmp, 0, d);
                System.arraycopy(x, j * d, x, i * d, d);
                System.arraycopy(tmp, 0, x, j * d, d);
            }
        }
    }

    /** Rows and first bad row of one partition. */
    record Count(int partition, long rows, FitInput.BadRow bad) implements Serializable {
    }

    /** Pass 1: validates and counts a partition's rows. */
    static final class CountPass implements Function2<Integer, Iterator<Row>, Iterator<Count>> {
        private static final long serialVersionUID = 1L;
        private final FitInput.RowParser parser;

        CountPass(FitInput.RowParser parser) {
            this.parser = parser;
        }

        @Override
        public Iterator<Count> call(Integer p, Iterator<Row> it) {
            FitInput.Blocks blocks = new FitInput.Blocks(it, parser, p, BLOCK_ROWS);
            while (blocks.next() > 0) {
                // Only the count and the first bad row matter here.
            }
            return FitInput.single(new Count(p, blocks.position(), blocks.bad()));
        }
    }

    /** Pass 2: the kept rows of a partition, as one row-major array. */
    static final class KeepPass implements Function2<Integer, Iterator<Row>, Iterator<double[]>> {
        private static final long serialVersionUID = 1L;
        private final FitInput.RowParser parser;
        private final long[] offsets;
        private final double fraction;
        private final long seed;

        KeepPass(FitInput.RowParser parser, long[] offsets, double fraction, long seed) {
            this.parser = parser;
            this.offsets = offsets;
            this.fraction = fraction;
            this.seed = seed;
        }

        @Override
        public Iterator<double[]> call(Integer p, Iterator<Row> it) {
            CounterRandom rng = CounterRandom.of(seed);
            FitInput.Blocks blocks = new FitInput.Blocks(it, parser, p, BLOCK_ROWS);
            int d = parser.dimension();
            double[] kept = new double[Math.max(16, (int) Math.min(1 << 26, (offsets[p + 1] - offsets[p]) * fraction * 1.2
                    + 64)) * d];
            int n = 0;
            long key = offsets[p];
            for (int m = blocks.next(); m > 0; m = blocks.next()) {
                double[] x = blocks.x();
                for (int j = 0; j < m; j++, key++) {
                    if (fraction >= 1 || rng.uniform(STREAM, key) < fraction) {
                        if ((n + 1) * d > kept.length) {
                            kept = Arrays.copyOf(kept, kept.length * 2);
                        }
                        System.arraycopy(x, j * d, kept, n * d, d);
                        n++;
                    }
                }
            }
            blocks.requireGood();
            return FitInput.single(Arrays.copyOf(kept, n * d));
        }
    }
}
