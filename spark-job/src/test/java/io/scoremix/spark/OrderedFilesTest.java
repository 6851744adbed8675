package io.scoremix.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.scoremix.core.score.LearnerConfig;
import io.scoremix.core.score.ScoreModelFormat;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.SplittableRandom;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Row keys do not depend on the file system's listing order: the same equal-sized CSV part files, seen
 * through {@code file:} and through {@link ReversedListingFileSystem} (which lists every folder the other
 * way round), give the same rows in the same order and bit-identical coefficient files, although Spark's
 * own reading of the two gives the rows in different orders. Also: bad-row messages still name the file
 * and line, partition folders and glob characters in file names still read, and the cost of naming 200
 * files one by one.
 */
class OrderedFilesTest {

    /** Rows per part file of the fit test: 4 files, 4,000 rows of a 3-blob 2-D mixture. */
    static final int ROWS_PER_FILE = 1000;

    static SparkSession spark;

    @TempDir
    Path tmp;

    @BeforeAll
    static void start() {
        spark = TestSupport.localSession("OrderedFilesTest");
        spark.sparkContext().hadoopConfiguration().set("fs." + ReversedListingFileSystem.SCHEME + ".impl",
                ReversedListingFileSystem.class.getName());
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    /**
     * Writes {@code files} CSV part files of {@code rows} rows each, with fixed-width values so that every
     * file has the same size. Row j of file f is a point of one of three blobs (seeded per file).
     */
    static void writeParts(Path dir, List<String> names, int rows) throws IOException {
        Files.createDirectories(dir);
        double[][] means = {{-4, 0}, {0, 3}, {4, -1}};
        for (int f = 0; f < names.size(); f++) {
            SplittableRandom rng = new SplittableRandom(1000 + f);
            StringBuilder sb = new StringBuilder("x,y\n");
            for (int j = 0; j < rows; j++) {
                double[] m = means[rng.nextInt(3)];
                sb.append(String.format(Locale.ROOT, "%+.9e,%+.9e%n", m[0] + gaussian(rng), m[1] + gaussian(rng)));
            }
            Path file = dir.resolve(names.get(f));
            Files.createDirectories(file.getParent());
            Files.writeString(file, sb.toString(), StandardCharsets.UTF_8);
        }
    }

    /** A standard normal by Box-Muller (the test only needs some spread, not a particular generator). */
    static double gaussian(SplittableRandom rng) {
        double u = 1.0 - rng.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.nextDouble());
    }

    static List<String> partNames(int n) {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            names.add(String.format(Locale.ROOT, "part-%05d.csv", i));
        }
        return names;
    }

    static FitConfig quick(String input, Path model) {
        return FitConfig.of(input, 3, model.toString()).withFormat(InputFormat.CSV)
                .withLearner(LearnerConfig.Mode.PAPER, 1, 8, 1, Double.NaN, 6.0);
    }

    static String reversed(Path p) {
        return ReversedListingFileSystem.SCHEME + "://" + p.toAbsolutePath();
    }

    static String local(Path p) {
        return "file:" + p.toAbsolutePath();
    }

    /** The file names of a folder in the order the file system lists them. */
    static List<String> listing(String folder) throws IOException {
        org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(folder);
        FileSystem fs = p.getFileSystem(spark.sparkContext().hadoopConfiguration());
        List<String> names = new ArrayList<>();
        for (FileStatus s : fs.listStatus(p)) {
            names.add(s.getPath().getName());
        }
        return names;
    }

    /** The feature values of every row as text, in read order (partition by partition). */
    static List<String> rows(List<Row> rows) {
        List<String> out = new ArrayList<>(rows.size());
        for (Row r : rows) {
            out.add(r.get(0) + "," + r.get(1));
        }
        return out;
    }

    @Test
    void theSameFilesListedInAnotherOrderGiveTheSameRowsAndTheSameModel() throws IOException {
        Path train = tmp.resolve("train");
        writeParts(train, partNames(4), ROWS_PER_FILE);
        Set<Long> sizes = new HashSet<>();
        try (var files = Files.list(train)) {
            files.forEach(f -> sizes.add(f.toFile().length()));
        }
        assertEquals(1, sizes.size(), "the part files have equal sizes: " + sizes);
        List<String> forward = listing(local(train));
        List<String> backward = listing(reversed(train));
        assertEquals(forward.size(), backward.size());
        assertNotEquals(forward, backward, "the two file systems list the folder in different orders");

        // Spark alone keeps the listing order of equal-sized files, so its rows come in different orders...
        List<String> plainLocal = rows(spark.read().option("header", "true").csv(local(train)).collectAsList());
        List<String> plainReversed = rows(spark.read().option("header", "true").csv(reversed(train)).collectAsList());
        assertEquals(4 * ROWS_PER_FILE, plainLocal.size());
        assertNotEquals(plainLocal, plainReversed, "Spark's read follows the listing order");
        // ... and fit's reader gives the same rows in the same order.
        List<String> fitLocal = rows(FitInput.open(spark, quick(local(train), tmp.resolve("x"))).frame().collectAsList());
        List<String> fitReversed = rows(FitInput.open(spark, quick(reversed(train), tmp.resolve("x"))).frame()
                .collectAsList());
        assertEquals(fitLocal, fitReversed);
        assertEquals(new HashSet<>(plainLocal), new HashSet<>(fitLocal), "the same rows");

        FitJob.Result a = new FitJob(quick(local(train), tmp.resolve("m-local"))).run(spark);
        FitJob.Result b = new FitJob(quick(reversed(train), tmp.resolve("m-reversed"))).run(spark);
        assertEquals(4 * ROWS_PER_FILE, a.rows());
        assertEquals(a.partitions(), b.partitions());
        byte[] ca = Files.readAllBytes(tmp.resolve("m-local").resolve(ScoreModelFormat.COEFFICIENTS));
        byte[] cb = Files.readAllBytes(tmp.resolve("m-reversed").resolve(ScoreModelFormat.COEFFICIENTS));
        assertArrayEquals(ca, cb, "bit-identical coefficient files");
        System.out.println("OrderedFilesTest: " + a.partitions() + " partitions, listing orders " + forward + " and "
                + backward + ", " + ca.length + " identical coefficient bytes");
    }

    @Test
    void aBadRowIsNamedByItsFileAndLineInEitherListingOrder() throws IOException {
        Path train = tmp.resolve("bad");
        writeParts(train, partNames(3), 50);
        Path badFile = train.resolve("part-00001.csv");
        List<String> lines = new ArrayList<>(Files.readAllLines(badFile, StandardCharsets.UTF_8));
        lines.set(7, lines.get(7).replaceFirst("^[^,]*", "oops"));
        Files.write(badFile, lines, StandardCharsets.UTF_8);
        for (String input : List.of(local(train), reversed(train))) {
            BadInputException e = assertThrows(BadInputException.class,
                    () -> new FitJob(quick(input, tmp.resolve("m-bad"))).run(spark));
            assertTrue(e.getMessage().contains("part-00001.csv: data row 7 (line 8): column 'x' holds 'oops'"),
                    e.getMessage());
            assertTrue(e.getMessage().startsWith(ReversedListingFileSystem.SCHEME + ":") == input.startsWith(
                    ReversedListingFileSystem.SCHEME + ":"), e.getMessage());
        }
    }

    @Test
    void partitionFoldersAndGlobCharactersInFileNamesStillRead() throws IOException {
        Path train = tmp.resolve("parts");
        writeParts(train, List.of("g=0/part-[0].csv", "g=1/part-{1}.csv", "g=1/part-*2?.csv"), 40);
        FitInput in = FitInput.open(spark, quick(local(train), tmp.resolve("x")));
        assertEquals(List.of("x", "y", "g"), in.features(), "the partition column is found under the folder");
        List<Row> rows = in.frame().collectAsList();
        assertEquals(120, rows.size());
        Set<String> files = new HashSet<>();
        Set<Object> groups = new HashSet<>();
        for (Row r : rows) {
            groups.add(r.get(2));
            files.add(URI.create(r.getString(3)).getPath().replaceAll(".*/", ""));
        }
        assertEquals(Set.of(0, 1), groups);
        assertEquals(Set.of("part-[0].csv", "part-{1}.csv", "part-*2?.csv"), files);
    }

    @Test
    void namingTwoHundredFilesOneByOneReadsThemAll() throws IOException {
        Path train = tmp.resolve("many");
        writeParts(train, partNames(200), 20);
        Files.writeString(train.resolve("_SUCCESS"), "");
        Files.writeString(train.resolve(".hidden.csv"), "x,y\nnot,data\n");
        // Warm-up of the CSV code paths, then the plain read (Spark's listing and the header) against
        // fit's reader (the same plus the files listed again one by one), each with a count of the rows.
        spark.read().option("header", "true").csv(local(train)).count();
        long t0 = System.nanoTime();
        long plain = spark.read().option("header", "true").csv(local(train)).count();
        long t1 = System.nanoTime();
        long ordered = FitInput.open(spark, quick(local(train), tmp.resolve("x"))).frame().count();
        long t2 = System.nanoTime();
        assertEquals(200 * 20, plain);
        assertEquals(200 * 20, ordered, "every part file once, and no hidden file");
        System.out.printf(Locale.ROOT, "OrderedFilesTest: 200 files of 20 rows: plain read and count %.0f ms, "
                + "fit's reader (files in path order) and count %.0f ms%n", (t1 - t0) / 1e6, (t2 - t1) / 1e6);
    }
}
