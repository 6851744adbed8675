package io.scoremix.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The driver-side subsample of evaluate and the fit report: whole rows, uniform, seeded, bad rows named. */
class DataSampleTest {

    static SparkSession spark;

    @TempDir
    Path tmp;

    @BeforeAll
    static void start() {
        spark = TestSupport.localSession("DataSampleTest");
    }

    @AfterAll
    static void stop() {
        spark.stop();
    }

    /** Three CSV files of 400 rows: row i (global) is (i, -2 i). */
    Path input() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("in"));
        for (int f = 0; f < 3; f++) {
            StringBuilder sb = new StringBuilder("a,b\n");
            for (int j = 0; j < 400; j++) {
                int i = f * 400 + j;
                sb.append(i).append(',').append(-2 * i).append('\n');
            }
            Files.writeString(dir.resolve("part-" + f + ".csv"), sb.toString());
        }
        return dir;
    }

    @Test
    void keepsWholeRowsUniformlyAndReproducibly() throws IOException {
        Path in = input();
        DataSample all = DataSample.read(spark, in.toString(), InputFormat.CSV, List.of(), 5000, 1);
        assertEquals(1200, all.rows());
        assertEquals(1200, all.total());
        assertEquals(List.of("a", "b"), all.features());
        Set<Double> seen = new TreeSet<>();
        for (int j = 0; j < all.rows(); j++) {
            assertEquals(-2 * all.x()[2 * j], all.x()[2 * j + 1], 0.0);
            seen.add(all.x()[2 * j]);
        }
        assertEquals(1200, seen.size(), "every row once");

        DataSample some = DataSample.read(spark, in.toString(), InputFormat.CSV, List.of("b"), 300, 1);
        assertTrue(some.rows() <= 300 && some.rows() > 240, "about 300 rows: " + some.rows());
        assertEquals(List.of("b"), some.features());
        // Uniform over the three files: each holds a third of the kept rows within 4 binomial standard errors.
        int[] perFile = new int[3];
        for (int j = 0; j < some.rows(); j++) {
            perFile[(int) (-some.x()[j] / 2) / 400]++;
        }
        double sd = Math.sqrt(some.rows() * (1.0 / 3) * (2.0 / 3));
        for (int c : perFile) {
            assertEquals(some.rows() / 3.0, c, 4 * sd, Arrays.toString(perFile));
        }
        DataSample again = DataSample.read(spark, in.toString(), InputFormat.CSV, List.of("b"), 300, 1);
        assertArrayEquals(some.x(), again.x());
    }

    @Test
    void badRowIsNamed() throws IOException {
        Path in = input();
        Files.writeString(in.resolve("part-1.csv"), "a,b\n1,2\n3,x\n");
        BadInputException e = assertThrows(BadInputException.class,
                () -> DataSample.read(spark, in.toString(), InputFormat.CSV, List.of(), 100, 1));
        assertTrue(e.getMessage().contains("part-1.csv: data row 2 (line 3): column 'b' holds 'x', not a number"),
                e.getMessage());
    }
}
