package io.scoremix.deploy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Dockerfile read the way BuildKit reads it, as far as deploy/docker/Dockerfile needs: comment lines
 * dropped (also inside a continued instruction), lines ending in a backslash joined, global ARG defaults
 * substituted into FROM, and the instructions grouped by build stage. COPY and ADD are split into flags
 * (--from, --chown, ...), sources and destination, in both the plain and the JSON form.
 *
 * <p>Not handled (the file does not use them): the escape and syntax parser directives other than the
 * default, heredocs, and variable substitution outside FROM.
 */
final class Dockerfile {

    /** One instruction: keyword in upper case, its text after the keyword, and the 1-based first line. */
    record Instruction(String keyword, String text, int line) {
    }

    /** A COPY or ADD: its --flags (name to value, "" for a bare flag), sources and destination. */
    record Copy(String keyword, Map<String, String> flags, List<String> sources, String destination, int line) {
        Optional<String> from() {
            return Optional.ofNullable(flags.get("from"));
        }
    }

    /** A build stage: the resolved base image, its name (AS ...) or null, and its instructions after FROM. */
    record Stage(String image, String name, List<Instruction> instructions) {

        List<Instruction> all(String keyword) {
            return instructions.stream().filter(i -> i.keyword().equals(keyword)).toList();
        }

        Optional<Instruction> last(String keyword) {
            List<Instruction> found = all(keyword);
            return found.isEmpty() ? Optional.empty() : Optional.of(found.get(found.size() - 1));
        }

        List<Copy> copies() {
            return instructions.stream().filter(i -> i.keyword().equals("COPY") || i.keyword().equals("ADD"))
                    .map(Dockerfile::copy).toList();
        }

        /** ENV settings in order, both the {@code k=v ...} and the legacy {@code k v} forms. */
        Map<String, String> env() {
            Map<String, String> env = new LinkedHashMap<>();
            for (Instruction i : all("ENV")) {
                String t = i.text().trim();
                String first = t.split("\\s+", 2)[0];
                if (!first.contains("=")) {
                    String[] kv = t.split("\\s+", 2);
                    env.put(kv[0], kv[1]);
                } else {
                    for (String word : words(t)) {
                        int eq = word.indexOf('=');
                        env.put(word.substring(0, eq), unquote(word.substring(eq + 1)));
                    }
                }
            }
            return env;
        }
    }

    final Path file;
    final Map<String, String> globalArgs;
    final List<Stage> stages;

    private Dockerfile(Path file, Map<String, String> globalArgs, List<Stage> stages) {
        this.file = file;
        this.globalArgs = globalArgs;
        this.stages = stages;
    }

    static Dockerfile read(Path file) throws IOException {
        List<Instruction> instructions = instructions(Files.readAllLines(file));
        Map<String, String> args = new LinkedHashMap<>();
        List<Stage> stages = new ArrayList<>();
        List<Instruction> current = null;
        for (Instruction i : instructions) {
            if (i.keyword().equals("FROM")) {
                String[] w = i.text().trim().split("\\s+");
                String image = substitute(w[0], args);
                String name = w.length >= 3 && w[1].equalsIgnoreCase("AS") ? w[2] : null;
                current = new ArrayList<>();
                stages.add(new Stage(image, name, current));
            } else if (current == null) {
                if (!i.keyword().equals("ARG")) {
                    throw new IllegalStateException(file + ":" + i.line() + ": only ARG may precede the first FROM");
                }
                String t = i.text().trim();
                int eq = t.indexOf('=');
                args.put(eq < 0 ? t : t.substring(0, eq), eq < 0 ? "" : unquote(t.substring(eq + 1)));
            } else {
                current.add(i);
            }
        }
        return new Dockerfile(file, args, stages);
    }

    Stage finalStage() {
        return stages.get(stages.size() - 1);
    }

    Optional<Stage> stage(String name) {
        return stages.stream().filter(s -> name.equals(s.name())).findFirst();
    }

    /** Joins continued lines, drops comment and blank lines, splits off the keyword. */
    static List<Instruction> instructions(List<String> lines) {
        List<Instruction> out = new ArrayList<>();
        StringBuilder pending = null;
        int start = 0;
        for (int n = 0; n < lines.size(); n++) {
            String line = lines.get(n);
            String trimmed = line.strip();
            if (trimmed.startsWith("#") || (trimmed.isEmpty() && pending == null)) {
                continue;
            }
            if (pending == null) {
                pending = new StringBuilder();
                start = n + 1;
            }
            boolean continued = trimmed.endsWith("\\");
            pending.append(continued ? trimmed.substring(0, trimmed.length() - 1) : trimmed).append(' ');
            if (!continued) {
                String text = pending.toString().strip();
                int space = text.indexOf(' ');
                String keyword = (space < 0 ? text : text.substring(0, space)).toUpperCase();
                out.add(new Instruction(keyword, space < 0 ? "" : text.substring(space + 1).strip(), start));
                pending = null;
            }
        }
        if (pending != null) {
            throw new IllegalStateException("the last instruction ends with a line continuation");
        }
        return out;
    }

    static Copy copy(Instruction i) {
        String t = i.text().strip();
        Map<String, String> flags = new LinkedHashMap<>();
        while (t.startsWith("--")) {
            int end = t.indexOf(' ');
            String flag = t.substring(2, end);
            int eq = flag.indexOf('=');
            flags.put(eq < 0 ? flag : flag.substring(0, eq), eq < 0 ? "" : flag.substring(eq + 1));
            t = t.substring(end).strip();
        }
        List<String> paths = t.startsWith("[") ? jsonArray(t) : List.of(t.split("\\s+"));
        if (paths.size() < 2) {
            throw new IllegalStateException("line " + i.line() + ": " + i.keyword() + " needs a source and a destination");
        }
        return new Copy(i.keyword(), flags, List.copyOf(paths.subList(0, paths.size() - 1)),
                paths.get(paths.size() - 1), i.line());
    }

    /** The exec (JSON) form of ENTRYPOINT, CMD or COPY: a flat array of strings. */
    static List<String> jsonArray(String text) {
        String t = text.strip();
        if (!t.startsWith("[") || !t.endsWith("]")) {
            throw new IllegalArgumentException("not a JSON array: " + text);
        }
        List<String> items = new ArrayList<>();
        Matcher m = Pattern.compile("\"((?:[^\"\\\\]|\\\\.)*)\"").matcher(t);
        while (m.find()) {
            items.add(m.group(1).replace("\\\"", "\"").replace("\\\\", "\\"));
        }
        return items;
    }

    private static String substitute(String text, Map<String, String> args) {
        Matcher m = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)}|\\$([A-Za-z_][A-Za-z0-9_]*)").matcher(text);
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
            String name = m.group(1) != null ? m.group(1) : m.group(2);
            m.appendReplacement(sb, Matcher.quoteReplacement(args.getOrDefault(name, "")));
        }
        return m.appendTail(sb).toString();
    }

    private static List<String> words(String text) {
        List<String> words = new ArrayList<>();
        Matcher m = Pattern.compile("(?:[^\\s\"]|\"[^\"]*\")+").matcher(text);
        while (m.find()) {
            words.add(m.group());
        }
        return words;
    }

    private static String unquote(String s) {
        return s.length() >= 2 && s.startsWith("\"") && s.endsWith("\"") ? s.substring(1, s.length() - 1) : s;
    }
}
