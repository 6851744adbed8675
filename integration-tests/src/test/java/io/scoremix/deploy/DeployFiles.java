package io.scoremix.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The deployment files of the repository (deploy/, the README's Kubernetes section, submit/) as the tests
 * of this package read them.
 */
final class DeployFiles {

    static final String DOCKERFILE = "deploy/docker/Dockerfile";
    static final String POD_TEMPLATE = "deploy/k8s/pod-template.yaml";
    static final String RBAC = "deploy/k8s/rbac.yaml";

    private DeployFiles() {
    }

    /** The repository root (surefire passes it as scoremix.repo). */
    static Path repo() {
        return Path.of(System.getProperty("scoremix.repo", "..")).toAbsolutePath().normalize();
    }

    /** The text of the README section that starts with the given heading, up to the next heading of any level. */
    static String readmeSection(String heading) throws IOException {
        String readme = Files.readString(repo().resolve("README.md"));
        int start = readme.indexOf("\n" + heading + "\n");
        assertTrue(start >= 0, "README has the heading " + heading);
        int end = readme.indexOf("\n#", start + heading.length() + 2);
        return readme.substring(start + 1, end < 0 ? readme.length() : end);
    }

    /**
     * A shell command of a README code block: the (indented) line that contains {@code marker} and its
     * backslash-continued lines, split into words. The README's commands use no quotes, so a word is a run
     * of non-blank characters.
     */
    static List<String> readmeCommand(String section, String marker) {
        List<String> lines = section.lines().toList();
        int first = -1;
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).startsWith("    ") && lines.get(i).contains(marker)) {
                first = i;
                break;
            }
        }
        assertTrue(first >= 0, "a README command line containing " + marker);
        StringBuilder command = new StringBuilder();
        for (int i = first; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            boolean continued = line.endsWith("\\");
            command.append(continued ? line.substring(0, line.length() - 1) : line).append(' ');
            if (!continued) {
                break;
            }
        }
        String text = command.toString().strip();
        assertFalse(text.contains("\"") || text.contains("'"), "the README command has no quoting: " + text);
        return List.of(text.split("\\s+"));
    }

    /** The arguments the command hands to spark-submit, and the environment assignments before it. */
    record Submission(Map<String, String> env, List<String> sparkSubmitArgs) {
    }

    /**
     * Runs a README command line of the form {@code [NAME=value ...] submit/scoremix-submit args} through the
     * real submit/scoremix-submit, with a SPARK_HOME whose bin/spark-submit only records its arguments, and
     * returns the arguments spark-submit would have received.
     */
    static Submission throughSubmitWrapper(List<String> words, Path tmp) throws IOException, InterruptedException {
        Map<String, String> env = new LinkedHashMap<>();
        int i = 0;
        while (words.get(i).matches("[A-Z_][A-Z0-9_]*=.*")) {
            int eq = words.get(i).indexOf('=');
            env.put(words.get(i).substring(0, eq), words.get(i).substring(eq + 1));
            i++;
        }
        assertEquals("submit/scoremix-submit", words.get(i), "the README command runs the submit wrapper");
        Path bin = Files.createDirectories(tmp.resolve("spark-home/bin"));
        Path recorder = bin.resolve("spark-submit");
        Files.writeString(recorder, "#!/bin/sh\nprintf '%s\\0' \"$@\"\n", StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(recorder, PosixFilePermissions.fromString("rwxr-xr-x"));
        List<String> command = new ArrayList<>();
        command.add(repo().resolve(words.get(i)).toString());
        command.addAll(words.subList(i + 1, words.size()));
        ProcessBuilder pb = new ProcessBuilder(command).directory(repo().toFile());
        pb.environment().putAll(env);
        pb.environment().put("SPARK_HOME", tmp.resolve("spark-home").toString());
        Path out = tmp.resolve("submit.out");
        Path err = tmp.resolve("submit.err");
        Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "scoremix-submit finished");
        assertEquals(0, p.exitValue(), Files.readString(err));
        String recorded = Files.readString(out);
        assertTrue(recorded.endsWith("\0"), recorded);
        return new Submission(env, List.of(recorded.substring(0, recorded.length() - 1).split("\0", -1)));
    }

    /**
     * Every field a document set that the fabric8 model has no property for: fabric8 keeps them in
     * {@code additionalProperties} instead of failing, and Spark's template loader accepts them silently, so
     * a misspelt key (volumeMount for volumeMounts) would vanish without a word. Walks the typed objects and
     * returns the paths of such fields.
     */
    static List<String> unknownFields(Object root) {
        List<String> unknown = new ArrayList<>();
        collectUnknown(root, "", unknown);
        return unknown;
    }

    private static void collectUnknown(Object o, String path, List<String> unknown) {
        if (o instanceof Collection<?> items) {
            int n = 0;
            for (Object item : items) {
                collectUnknown(item, path + "[" + n++ + "]", unknown);
            }
            return;
        }
        if (o instanceof Map<?, ?> map) {
            for (Map.Entry<?, ?> e : map.entrySet()) {
                collectUnknown(e.getValue(), path + "." + e.getKey(), unknown);
            }
            return;
        }
        if (o == null || !o.getClass().getName().startsWith("io.fabric8.kubernetes.api.model")) {
            return;
        }
        for (Method m : o.getClass().getMethods()) {
            if (m.getParameterCount() != 0 || !m.getName().startsWith("get") || m.getDeclaringClass() == Object.class) {
                continue;
            }
            Object value;
            try {
                value = m.invoke(o);
            } catch (IllegalAccessException | InvocationTargetException e) {
                continue;
            }
            String name = Character.toLowerCase(m.getName().charAt(3)) + m.getName().substring(4);
            if (name.equals("additionalProperties")) {
                for (Object key : ((Map<?, ?>) value).keySet()) {
                    unknown.add(path + "." + key);
                }
            } else {
                collectUnknown(value, path + "." + name, unknown);
            }
        }
    }
}
