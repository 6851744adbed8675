package io.scoremix.core.score;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.scoremix.core.mixture.GaussianMixture;
import io.scoremix.core.random.CounterRandom;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The model reader under attack: random bytes, mutated and truncated JSON, and files declaring huge sizes.
 * Every input must either decode (a harmless mutation, such as white space) or be rejected with a
 * {@link ScoreModelFormat.ModelFormatProblem} naming the source; no other exception, no hang (the timeouts
 * only catch a hang: each case takes milliseconds) and no allocation beyond what the file's length allows.
 */
class ScoreModelFormatFuzzTest {

    private static final String SOURCE = "fuzz-model";
    private static byte[] json;
    private static byte[] bin;

    @BeforeAll
    static void fit() {
        GaussianMixture two = GaussianMixture.of(new double[] {0.4, 0.6}, new double[][] {{-2, 0}, {2, 1}},
                new double[][][] {{{1, 0.3}, {0.3, 0.5}}, {{0.6, -0.2}, {-0.2, 1.0}}});
        int n = 3000;
        double[] x = new double[n * 2];
        two.sample(CounterRandom.of(5), 1, 0, n, x);
        ScoreModel paper = Learner.fit(x, n, 2, null, LearnerConfig.builder(2).mode(LearnerConfig.Mode.PAPER).degree(1)
                .levels(4).delta(1e-2).build()).model();
        ScoreModelFormat.Encoded e = ScoreModelFormat.encode(paper, null);
        json = e.modelJson();
        bin = e.coefficients();
        assertTrue(bin.length > 0, "paper mode has coefficients");
    }

    /** Decodes, accepting success or a ModelFormatProblem naming the source; anything else fails the test. */
    static boolean decodesOrIsRejected(byte[] j, byte[] b, String what) {
        try {
            ScoreModelFormat.decode(j, b, SOURCE);
            return true;
        } catch (ScoreModelFormat.ModelFormatProblem e) {
            assertTrue(e.getMessage().startsWith(SOURCE + ": "), what + ": " + e.getMessage());
            return false;
        } catch (RuntimeException | Error e) {
            fail(what + ": " + e, e);
            return false;
        }
    }

    static ScoreModelFormat.ModelFormatProblem rejected(String modelJson, byte[] b) {
        return assertThrows(ScoreModelFormat.ModelFormatProblem.class,
                () -> ScoreModelFormat.decode(modelJson.getBytes(StandardCharsets.UTF_8), b, SOURCE));
    }

    @Test
    @Timeout(120)
    void randomBytesAreRejected() {
        Random r = new Random(1);
        for (int i = 0; i < 300; i++) {
            byte[] j = new byte[r.nextInt(4000)];
            r.nextBytes(j);
            if (i % 3 == 0 && j.length > 0) {
                j[0] = '{';
            }
            byte[] b = new byte[8 * r.nextInt(20)];
            r.nextBytes(b);
            assertTrue(!decodesOrIsRejected(j, b, "random " + i));
        }
        assertTrue(!decodesOrIsRejected(new byte[0], new byte[0], "empty"));
        assertTrue(!decodesOrIsRejected(json, new byte[0], "no coefficients"));
    }

    @Test
    @Timeout(300)
    void mutatedJsonIsDecodedOrRejected() {
        Random r = new Random(2);
        // Half the mutations hit a file without its content checksum, so they reach the structural checks.
        byte[] unchecked = ScoreModelFormatTest.unchecked(new String(json, StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8);
        String text = new String(unchecked, StandardCharsets.UTF_8);
        String[] replacements = {"1e308", "-1", "0", "1e400", "NaN", "null", "\"x\"", "[]", "{}", "99999999999",
                "2147483648", "100000", "-0.0", "[1,2,3]", "true", "9e18"};
        int decoded = 0;
        int decodedChecked = 0;
        for (int i = 0; i < 600; i++) {
            byte[] base = i % 8 < 4 ? json : unchecked;
            byte[] j;
            switch (i % 4) {
                case 0 -> {
                    // Flip one byte.
                    j = base.clone();
                    j[r.nextInt(j.length)] ^= (byte) (1 << r.nextInt(8));
                }
                case 1 -> {
                    // Delete a span.
                    int a = r.nextInt(base.length);
                    int len = 1 + r.nextInt(Math.min(200, base.length - a));
                    j = concat(Arrays.copyOfRange(base, 0, a), Arrays.copyOfRange(base, a + len, base.length));
                }
                case 2 -> {
                    // Duplicate a span in place.
                    int a = r.nextInt(base.length);
                    int len = 1 + r.nextInt(Math.min(200, base.length - a));
                    j = concat(Arrays.copyOfRange(base, 0, a + len), Arrays.copyOfRange(base, a, base.length));
                }
                default -> {
                    // Replace one number token with an extreme value or another type.
                    java.util.regex.Matcher m = java.util.regex.Pattern.compile("-?[0-9][0-9.eE+-]*").matcher(text);
                    int count = 0;
                    while (m.find()) {
                        count++;
                    }
                    int pick = r.nextInt(count);
                    m.reset();
                    for (int k = 0; k <= pick; k++) {
                        m.find();
                    }
                    String s = text.substring(0, m.start()) + replacements[r.nextInt(replacements.length)]
                            + text.substring(m.end());
                    j = s.getBytes(StandardCharsets.UTF_8);
                }
            }
            if (decodesOrIsRejected(j, bin, "mutation " + i)) {
                decoded++;
                if (base == json && i % 4 != 3) {
                    decodedChecked++;
                }
            }
        }
        System.out.println("ScoreModelFormatFuzzTest: " + decoded + " of 600 mutations decode, " + decodedChecked
                + " of them of the checksummed file (white space or the checksum entry's own key), the rest rejected");
    }

    @Test
    @Timeout(120)
    void everyTruncationIsRejected() {
        for (int len = 0; len < json.length; len += Math.max(1, json.length / 400)) {
            assertTrue(!decodesOrIsRejected(Arrays.copyOf(json, len), bin, "json cut at " + len));
        }
        for (int len = 0; len < bin.length; len++) {
            assertTrue(!decodesOrIsRejected(json, Arrays.copyOf(bin, len), "coefficients cut at " + len));
        }
    }

    /** Declared sizes far beyond what the file holds are refused before anything of that size is built. */
    @Test
    @Timeout(120)
    void hugeDeclaredSizesAreRejectedWithoutAllocating() throws Exception {
        // Hand-made files: without the content checksum, so that the size checks themselves are exercised.
        String text = ScoreModelFormatTest.unchecked(new String(json, StandardCharsets.UTF_8));
        // A dimension the whitening could not possibly hold.
        assertTrue(rejected(text.replaceFirst("\"dimension\" : 2", "\"dimension\" : 100000"), bin).getMessage()
                .contains("too short to hold the whitening"));
        assertTrue(rejected(text.replaceFirst("\"dimension\" : 2", "\"dimension\" : 65536"), bin).getMessage()
                .contains("dimension"));
        // 100,000 crude components: empty objects, rejected at the first one.
        StringBuilder comps = new StringBuilder("\"crude\" : { \"components\" : [");
        for (int i = 0; i < 100_000; i++) {
            comps.append(i == 0 ? "" : ",").append("{}");
        }
        comps.append("] },\n  \"levels\"");
        String many = text.replaceFirst("(?s)\"crude\" : \\{.*?\\n  \"levels\"", java.util.regex.Matcher.quoteReplacement(comps.toString()));
        assertTrue(rejected(many, bin).getMessage().contains("crude.components[0].weight"));
        // 5,000 levels.
        StringBuilder levels = new StringBuilder("\"levels\" : [");
        for (int i = 0; i < 5000; i++) {
            levels.append(i == 0 ? "" : ",").append("{\"t\": 1}");
        }
        levels.append("],\n  \"coefficient_file\"");
        String lv = text.replaceFirst("(?s)\"levels\" : \\[.*?\\n  \"coefficient_file\"",
                java.util.regex.Matcher.quoteReplacement(levels.toString()));
        assertTrue(rejected(lv, bin).getMessage().contains("exceed the limit of 4096"));
        // A huge feature degree.
        assertTrue(rejected(text.replaceFirst("\"degree\" : 1", "\"degree\" : 1000000"), bin).getMessage()
                .contains("features.degree"));
        // A coefficient count whose byte size overflows a long to the file's real length, checksum matching.
        long doubles = bin.length / 8;
        String overflow = text.replaceFirst("\"doubles\" : " + doubles, "\"doubles\" : " + ((1L << 61) + doubles));
        assertTrue(rejected(overflow, bin).getMessage().contains("truncated or does not belong"));
        // An offset near Long.MAX_VALUE.
        assertTrue(rejected(text.replaceFirst("\"offset\" : 0", "\"offset\" : 9223372036854775000"), bin)
                .getMessage().contains(".coefficients"));
        // A huge array where d numbers are expected: refused by its length, not by parsing into a model.
        StringBuilder big = new StringBuilder("\"mean\" : [");
        for (int i = 0; i < 2_000_000; i++) {
            big.append(i == 0 ? "" : ",").append('0');
        }
        big.append(']');
        String hugeMean = text.replaceFirst("\"mean\" : \\[[^\\]]*\\]", java.util.regex.Matcher.quoteReplacement(big.toString()));
        assertTrue(rejected(hugeMean, bin).getMessage().contains("whitening.mean"));
        // Deep nesting and duplicate keys.
        String deep = "[".repeat(100_000);
        assertTrue(rejected(deep, bin).getMessage().contains("not valid JSON"));
        assertTrue(rejected(text.replaceFirst("\\{", "{\"format\": \"x\","), bin).getMessage().contains("not valid JSON"));
    }

    /** A non-integer or out-of-range cell index is refused by name. */
    @Test
    void badCellIndicesAreRejected() {
        String text = ScoreModelFormatTest.unchecked(new String(json, StandardCharsets.UTF_8));
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"cell_of_component\" : \\[ (\\d+)").matcher(text);
        assertTrue(m.find(), "model.json lists cell indices");
        String bad = text.substring(0, m.start(1)) + "1.5" + text.substring(m.end(1));
        assertTrue(rejected(bad, bin).getMessage().contains("cell_of_component[0]"));
    }

    /** A checksum recomputed by an attacker still cannot make a mis-sized coefficient table load. */
    @Test
    void consistentChecksumWithWrongCountIsRejected() throws Exception {
        byte[] b = Arrays.copyOf(bin, bin.length + 8);
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putDouble(bin.length, 1.0);
        String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        String text = ScoreModelFormatTest.unchecked(new String(json, StandardCharsets.UTF_8))
                .replaceAll("\"sha256\" : \"[0-9a-f]+\"", "\"sha256\" : \"" + sha + "\"");
        ScoreModelFormat.ModelFormatProblem e = rejected(text, b);
        assertTrue(e.getMessage().contains("coefficients.bin"), e.getMessage());
        assertEquals(true, decodesOrIsRejected(json, bin, "the original"));
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
