package io.scoremix.spark;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.DataFrameReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The files of a folder input in an order that does not depend on the file system, so that the partitions
 * of the scan, and with them the row keys of {@code fit} (offset of the partition + position in it), are
 * the same for the same files on any file system.
 *
 * <p>Implementation notes. Spark plans a file scan by cutting the listed files into splits, sorting the
 * splits by length only, longest first, with a stable sort, and packing them into partitions in that
 * order (Spark 4: FileSourceScanExec.createNonBucketedReadRDD, then FilePartition.getFilePartitions).
 * Splits of equal length therefore keep the file system's listing order: sorted on HDFS, directory
 * order on a local disk (ext4: by a hash of the name), whatever an object store returns. Part files
 * written by one job often have equal sizes, and the full-size splits of large files always do. So the
 * folder's files, as Spark listed them for the first read (Dataset.inputFiles: its own rules for hidden
 * files; no second listing of the folder), are sorted by their path relative to the folder and read
 * again, named one by one, with the folder as {@code basePath} so that partition-column discovery works
 * as for the folder. Spark then puts files with no explicit root first in the given order (the
 * PartitioningAwareFileIndex.allFiles of an unpartitioned index), and the stable sort by length breaks
 * ties by that path. The second read lists each named file (in one small Spark job beyond 32 files:
 * InMemoryFileIndex.bulkListLeafFiles), whose time is logged.
 *
 * <p>Not covered: a folder with Hive-style partition folders ({@code key=value/}) orders its partition
 * folders by a hash map of their full paths (InMemoryFileIndex groups the files by parent), so equal-length
 * splits in different partition folders may still follow the file system; an input that is a single file
 * or a glob pattern is read as it is.
 */
final class OrderedFiles {

    /** Characters that make Spark treat a path as a glob pattern (SparkHadoopUtil.isGlobPath), and the escape. */
    private static final String GLOB_CHARACTERS = "{}[]*?\\";

    private static final Logger LOG = LoggerFactory.getLogger(OrderedFiles.class);

    private final String input;
    private final String root;
    private final List<String> paths;

    private OrderedFiles(String input, String root, List<String> paths) {
        this.input = input;
        this.root = root;
        this.paths = paths;
    }

    /**
     * The data files of {@code listed} (the input read from {@code input}) in path order, or the input as
     * it is when it is not a folder of at least two files.
     *
     * @param listed the input as Spark read it from {@code input} (its listing is reused)
     */
    static OrderedFiles of(SparkSession spark, Dataset<Row> listed, String input) {
        Path in = new Path(input);
        Path folder;
        try {
            FileSystem fs = in.getFileSystem(spark.sparkContext().hadoopConfiguration());
            FileStatus status = fs.getFileStatus(in);
            if (!status.isDirectory()) {
                return new OrderedFiles(input, null, List.of(input));
            }
            folder = status.getPath();
        } catch (java.io.FileNotFoundException e) {
            // A glob pattern (Spark expanded it for the first read): keep Spark's order.
            return new OrderedFiles(input, null, List.of(input));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the input " + input, e);
        }
        String prefix = folder.toUri().getPath();
        prefix = prefix.endsWith("/") ? prefix : prefix + "/";
        List<String[]> files = new ArrayList<>();
        for (String file : listed.inputFiles()) {
            Path p = new Path(URI.create(file));
            String path = p.toUri().getPath();
            if (!path.startsWith(prefix)) {
                // Not under the folder (a symbolic link resolved elsewhere?): keep Spark's order.
                return new OrderedFiles(input, null, List.of(input));
            }
            if (isDataFile(p.getName())) {
                files.add(new String[] {path.substring(prefix.length()), p.toString()});
            }
        }
        if (files.size() < 2) {
            return new OrderedFiles(input, null, List.of(input));
        }
        files.sort(Comparator.comparing((String[] f) -> f[0]));
        List<String> paths = new ArrayList<>(files.size());
        for (String[] f : files) {
            paths.add(escapeGlob(f[1]));
        }
        return new OrderedFiles(input, folder.toString(), List.copyOf(paths));
    }

    /** Reads the files in their order with {@code reader} (its format, options and schema). */
    Dataset<Row> read(DataFrameReader reader) {
        if (root == null) {
            return reader.load(paths.get(0));
        }
        long start = System.nanoTime();
        Dataset<Row> read = reader.option("basePath", root).load(paths.toArray(new String[0]));
        LOG.info("input {}: its {} files named in path order ({} ms to list them again)", input, paths.size(),
                (System.nanoTime() - start) / 1_000_000);
        return read;
    }

    /** How many files are named one by one (0 when the input is read as it is). */
    int files() {
        return root == null ? 0 : paths.size();
    }

    /** Spark's data files: no name starting with '_' (unless it holds '=') or '.' (PartitioningAwareFileIndex). */
    static boolean isDataFile(String name) {
        return !((name.startsWith("_") && !name.contains("=")) || name.startsWith("."));
    }

    /** A path that Spark's globbing (Hadoop's GlobPattern, backslash escapes) resolves to itself. */
    static String escapeGlob(String path) {
        StringBuilder sb = null;
        for (int i = 0; i < path.length(); i++) {
            char c = path.charAt(i);
            if (GLOB_CHARACTERS.indexOf(c) >= 0) {
                if (sb == null) {
                    sb = new StringBuilder(path.length() + 8).append(path, 0, i);
                }
                sb.append('\\');
            }
            if (sb != null) {
                sb.append(c);
            }
        }
        return sb == null ? path : sb.toString();
    }
}
