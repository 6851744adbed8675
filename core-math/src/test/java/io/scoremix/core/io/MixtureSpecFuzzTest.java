package io.scoremix.core.io;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The spec reader under attack: random bytes, mutated and truncated documents, huge arrays and declared
 * sizes. Every input must parse (a harmless mutation) or be rejected with a {@link SpecFormatException}
 * naming the source; never another exception, never a hang (the timeouts only catch a hang).
 */
class MixtureSpecFuzzTest {

    static final String SPEC = "{\"format\": \"scoremix.gmm/v1\", \"name\": \"two\", \"dimension\": 2, \"components\": ["
            + "{\"weight\": 0.4, \"mean\": [-2.0, 0.0], \"covariance\": [[1.0, 0.3], [0.3, 0.5]]},"
            + "{\"weight\": 0.6, \"mean\": [2.0, 1.0], \"covariance\": [[0.6, -0.2], [-0.2, 1.0]]}]}";

    static boolean parsesOrIsRejected(String doc, String what) {
        try {
            MixtureSpec.parse(doc, "fuzz.json");
            return true;
        } catch (SpecFormatException e) {
            assertTrue(e.getMessage().startsWith("fuzz.json: "), what + ": " + e.getMessage());
            return false;
        } catch (RuntimeException | Error e) {
            fail(what + ": " + e, e);
            return false;
        }
    }

    @Test
    @Timeout(120)
    void randomBytesAndMutationsParseOrAreRejected() {
        assertTrue(parsesOrIsRejected(SPEC, "the original"));
        Random r = new Random(3);
        for (int i = 0; i < 300; i++) {
            byte[] b = new byte[r.nextInt(2000)];
            r.nextBytes(b);
            assertTrue(!parsesOrIsRejected(new String(b, StandardCharsets.ISO_8859_1), "random " + i));
        }
        String[] replacements = {"1e308", "-1", "0", "1e400", "NaN", "null", "\"x\"", "[]", "{}", "99999999999",
                "2147483648", "100000", "-0.0", "[1,2,3]", "true", "[[1,0],[0,1]]"};
        int parsed = 0;
        byte[] spec = SPEC.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < 1000; i++) {
            String doc;
            switch (i % 3) {
                case 0 -> {
                    byte[] b = spec.clone();
                    b[r.nextInt(b.length)] ^= (byte) (1 << r.nextInt(7));
                    doc = new String(b, StandardCharsets.UTF_8);
                }
                case 1 -> {
                    int a = r.nextInt(SPEC.length());
                    int len = 1 + r.nextInt(Math.min(40, SPEC.length() - a));
                    doc = SPEC.substring(0, a) + (r.nextBoolean() ? "" : SPEC.substring(a, a + len)) + SPEC.substring(a + len);
                }
                default -> {
                    Matcher m = Pattern.compile("-?[0-9][0-9.eE+-]*|\\[[^\\[\\]]*\\]").matcher(SPEC);
                    int count = 0;
                    while (m.find()) {
                        count++;
                    }
                    int pick = r.nextInt(count);
                    m.reset();
                    for (int k = 0; k <= pick; k++) {
                        m.find();
                    }
                    doc = SPEC.substring(0, m.start()) + replacements[r.nextInt(replacements.length)] + SPEC.substring(m.end());
                }
            }
            if (parsesOrIsRejected(doc, "mutation " + i + ": " + doc)) {
                parsed++;
            }
        }
        System.out.println("MixtureSpecFuzzTest: " + parsed + " of 1000 mutations parse (harmless), the rest rejected");
        for (int len = 0; len < SPEC.length(); len++) {
            assertTrue(!parsesOrIsRejected(SPEC.substring(0, len), "cut at " + len));
        }
    }

    @Test
    @Timeout(120)
    void hugeArraysAndDeclaredSizesAreRejected(@TempDir Path dir) throws Exception {
        String[] docs = {
            SPEC.replace("\"dimension\": 2", "\"dimension\": 100000"),
            SPEC.replace("\"dimension\": 2", "\"dimension\": 1000000000000"),
            SPEC.replace("[-2.0, 0.0]", "[" + "0,".repeat(3_000_000) + "0]"),
            SPEC.replace("[[1.0, 0.3], [0.3, 0.5]]", "[" + "[],".repeat(200_000) + "[]]"),
            SPEC.replace("\"components\": [", "\"components\": [" + "{},".repeat(200_000)),
            "[".repeat(200_000),
            "{\"a\":".repeat(100_000),
            SPEC.replace("\"name\": \"two\"", "\"name\": \"" + "x".repeat(30_000_000) + "\""),
        };
        for (int i = 0; i < docs.length; i++) {
            String d = docs[i];
            assertTrue(!parsesOrIsRejected(d, "huge " + i), "huge " + i + " must be rejected");
            // The same through a file.
            Path f = dir.resolve("huge-" + i + ".json");
            Files.writeString(f, d);
            try {
                MixtureSpec.read(f);
                fail("huge " + i + " read from a file");
            } catch (SpecFormatException e) {
                assertTrue(e.getMessage().startsWith(f.toString()), e.getMessage());
            }
        }
    }

    @Test
    void nonPositiveDefiniteCovarianceIsNamed() {
        String doc = SPEC.replace("[[0.6, -0.2], [-0.2, 1.0]]", "[[1, 2], [2, 1]]");
        try {
            MixtureSpec.parse(doc, "fuzz.json");
            fail("accepted");
        } catch (SpecFormatException e) {
            assertTrue(e.getMessage().contains("components[1].covariance"), e.getMessage());
        }
        assertTrue(Arrays.asList(SPEC.split(",")).size() > 1);
    }
}
