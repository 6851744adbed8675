package io.scoremix.core.score;

import io.scoremix.core.mixture.GaussianMixture;
import io.scoremix.core.random.CounterRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ScoreModelFormatTest {

    private static ScoreModel soft;
    private static ScoreModel paper;

    private static final GaussianMixture TWO = GaussianMixture.of(new double[] {0.4, 0.6},
            new double[][] {{-2, 0}, {2, 1}},
            new double[][][] {{{1, 0.3}, {0.3, 0.5}}, {{0.6, -0.2}, {-0.2, 1.0}}});

    @BeforeAll
    static void fit() {
        int n = 20_000;
        double[] x = new double[n * 2];
        TWO.sample(CounterRandom.of(5), 1, 0, n, x);
        // k = 1 on two-component data: the crude Gaussian is misspecified, so the residual fit has a real
        // signal and the soft-gated model keeps coefficients (a well-specified crude would keep the plug-in).
        soft = Learner.fit(x, n, 2, null, LearnerConfig.builder(1).degree(2).levels(6).delta(1e-2).build()).model();
        paper = Learner.fit(x, n, 2, null, LearnerConfig.builder(2).mode(LearnerConfig.Mode.PAPER).degree(2)
                .levels(6).delta(1e-2).build()).model();
    }

    @Test
    void saveThenLoadGivesAnIdenticalModel(@TempDir Path dir) throws Exception {
        for (ScoreModel model : new ScoreModel[] {soft, paper}) {
            Path folder = dir.resolve("m-" + model.target());
            ScoreModelFormat.save(model, Map.of("provenance", Map.of("seed", 1)), folder, false);
            ScoreModel loaded = ScoreModelFormat.load(folder);
            assertEquals(model.levelCount(), loaded.levelCount());
            assertArrayEquals(model.levelTimes(), loaded.levelTimes());
            double[] z = new double[50 * 2];
            CounterRandom.of(3).fillGaussian(7, 0, z, 0, z.length);
            for (double t : new double[] {0.01, 0.05, 0.3, 2.0, 5.9}) {
                double[] a = new double[z.length];
                double[] b = new double[z.length];
                model.score(t, z, 50, a);
                loaded.score(t, z, 50, b);
                assertArrayEquals(a, b, 0.0, "t = " + t);
            }
            // Encoding the loaded model reproduces both files byte for byte.
            ScoreModelFormat.Encoded e1 = ScoreModelFormat.encode(model, null);
            ScoreModelFormat.Encoded e2 = ScoreModelFormat.encode(loaded, null);
            assertArrayEquals(e1.coefficients(), e2.coefficients());
            assertArrayEquals(e1.modelJson(), e2.modelJson());
        }
    }

    @Test
    void existingFolderIsRefusedWithoutOverwriteAndNoTemporaryIsLeft(@TempDir Path dir) throws Exception {
        Path folder = dir.resolve("model");
        ScoreModelFormat.save(soft, null, folder, false);
        assertThrows(java.nio.file.FileAlreadyExistsException.class, () -> ScoreModelFormat.save(soft, null, folder, false));
        ScoreModelFormat.save(soft, null, folder, true);
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count(), "only the model folder remains");
        }
    }

    @Test
    void corruptedOrTruncatedCoefficientsAreCaughtByTheChecksum(@TempDir Path dir) throws Exception {
        Path folder = dir.resolve("model");
        ScoreModelFormat.save(soft, null, folder, false);
        Path bin = folder.resolve(ScoreModelFormat.COEFFICIENTS);
        byte[] original = Files.readAllBytes(bin);
        assertTrue(original.length > 16, "the soft-gated fit must have coefficients");
        byte[] flipped = original.clone();
        flipped[original.length / 2] ^= 0x10;
        Files.write(bin, flipped);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ScoreModelFormat.load(folder));
        assertTrue(e.getMessage().contains("checksum mismatch"), e.getMessage());
        assertTrue(e.getMessage().contains(folder.toString()), e.getMessage());
        Files.write(bin, Arrays.copyOf(original, original.length - 8));
        e = assertThrows(IllegalArgumentException.class, () -> ScoreModelFormat.load(folder));
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
    }

    @Test
    void anotherFormatVersionIsRefusedWithTheVersionNamed(@TempDir Path dir) throws Exception {
        Path folder = dir.resolve("model");
        ScoreModelFormat.save(soft, null, folder, false);
        Path json = folder.resolve(ScoreModelFormat.MODEL_JSON);
        // A file of another version carries its own checksum, or none: drop ours before editing.
        String text = unchecked(Files.readString(json)).replace("scoremix.model/v1", "scoremix.model/v2");
        Files.writeString(json, text);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ScoreModelFormat.load(folder));
        assertTrue(e.getMessage().contains("scoremix.model/v2") && e.getMessage().contains("scoremix.model/v1"),
                e.getMessage());
        Files.writeString(json, "{\"format\": \"scoremix.model/v1\", \"dimension\": ");
        e = assertThrows(IllegalArgumentException.class, () -> ScoreModelFormat.load(folder));
        assertTrue(e.getMessage().contains("not valid JSON"), e.getMessage());
    }

    @Test
    void aTamperedCoefficientOffsetIsRejected() {
        ScoreModelFormat.Encoded e = ScoreModelFormat.encode(soft, null);
        String json = unchecked(new String(e.modelJson(), StandardCharsets.UTF_8))
                .replaceFirst("\"offset\" : 0", "\"offset\" : 99999999");
        assertFalse(json.equals(new String(e.modelJson(), StandardCharsets.UTF_8)));
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
                () -> ScoreModelFormat.decode(json.getBytes(StandardCharsets.UTF_8), e.coefficients(), "m"));
        assertTrue(ex.getMessage().contains("coefficients") && ex.getMessage().contains("offset 99999999"), ex.getMessage());
    }

    /** model.json without its content checksum entry, as written before the entry existed (read unchecked). */
    static String unchecked(String modelJson) {
        return modelJson.replaceFirst("^\\{\\n  \"content_sha256\" : \"[0-9a-f]{64}\",", "{");
    }

    @Test
    void aChangedDigitInModelJsonIsCaughtByItsContentChecksum() {
        ScoreModelFormat.Encoded e = ScoreModelFormat.encode(paper, Map.of("provenance", Map.of("seed", 1)));
        String json = new String(e.modelJson(), StandardCharsets.UTF_8);
        assertTrue(json.startsWith("{\n  \"content_sha256\" : \""), json.substring(0, 80));
        // The first digit of the whitening mean, changed: still valid JSON and a valid model, but not this one.
        int at = json.indexOf("\"mean\" : [") + "\"mean\" : [".length();
        while (!Character.isDigit(json.charAt(at))) {
            at++;
        }
        char c = json.charAt(at);
        String changed = json.substring(0, at) + (c == '9' ? '8' : (char) (c + 1)) + json.substring(at + 1);
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
                () -> ScoreModelFormat.decode(changed.getBytes(StandardCharsets.UTF_8), e.coefficients(), "m"));
        assertTrue(ex.getMessage().contains("model.json: content checksum mismatch"), ex.getMessage());
        // Without the entry (a file written before it existed) the same change loads: nothing else catches it.
        ScoreModelFormat.decode(unchecked(changed).getBytes(StandardCharsets.UTF_8), e.coefficients(), "m");
        // The original loads.
        ScoreModelFormat.decode(e.modelJson(), e.coefficients(), "m");
    }
}
