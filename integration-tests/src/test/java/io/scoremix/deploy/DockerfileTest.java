package io.scoremix.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * deploy/docker/Dockerfile read as text (no Docker daemon here; the image is never built): everything it
 * copies from the build context exists and is not excluded by its .dockerignore, the build stage has every
 * pom the Maven reactor loads and the sources of the modules it builds, its jar selection picks exactly the
 * thin jar out of what {@code mvn package} makes, the base images match the versions the jar is built for,
 * the runtime stage keeps Spark's entrypoint, user and a working directory that user can write, and its
 * paths agree with the README and the pod template.
 */
class DockerfileTest {

    static Dockerfile docker;

    @BeforeAll
    static void read() throws IOException {
        docker = Dockerfile.read(DeployFiles.repo().resolve(DeployFiles.DOCKERFILE));
    }

    /**
     * The ignore file BuildKit uses for this Dockerfile: {@code <Dockerfile>.dockerignore} beside it, else
     * {@code .dockerignore} at the context root.
     */
    static List<String> ignorePatterns() throws IOException {
        Path specific = DeployFiles.repo().resolve(DeployFiles.DOCKERFILE + ".dockerignore");
        Path root = DeployFiles.repo().resolve(".dockerignore");
        Path file = Files.exists(specific) ? specific : root;
        if (!Files.exists(file)) {
            return List.of();
        }
        return Files.readAllLines(file).stream().map(String::strip)
                .filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
    }

    /** Docker's matching: a pattern excludes a path when it matches the path or one of its parent folders. */
    static boolean ignored(String relative, List<String> patterns) {
        boolean ignored = false;
        for (String pattern : patterns) {
            boolean negate = pattern.startsWith("!");
            Pattern regex = Pattern.compile(globToRegex(negate ? pattern.substring(1) : pattern));
            String path = relative;
            boolean matches = false;
            while (!path.isEmpty()) {
                if (regex.matcher(path).matches()) {
                    matches = true;
                    break;
                }
                int slash = path.lastIndexOf('/');
                path = slash < 0 ? "" : path.substring(0, slash);
            }
            if (matches) {
                ignored = !negate;
            }
        }
        return ignored;
    }

    static String globToRegex(String glob) {
        String g = glob.startsWith("/") ? glob.substring(1) : glob;
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < g.length(); i++) {
            char ch = g.charAt(i);
            if (g.startsWith("**/", i)) {
                sb.append("(?:.*/)?");
                i += 2;
            } else if (g.startsWith("**", i)) {
                sb.append(".*");
                i += 1;
            } else if (ch == '*') {
                sb.append("[^/]*");
            } else if (ch == '?') {
                sb.append("[^/]");
            } else {
                sb.append(Pattern.quote(String.valueOf(ch)));
            }
        }
        return sb.toString();
    }

    @Test
    void contextSourcesExistAndAreNotIgnored() throws IOException {
        List<String> patterns = ignorePatterns();
        assertTrue(ignored("spark-job/target/x.jar", patterns) && ignored("core-math/target-h3/x", patterns),
                "build output stays out of the context");
        int checked = 0;
        for (Dockerfile.Stage stage : docker.stages) {
            for (Dockerfile.Copy copy : stage.copies()) {
                if (copy.from().isPresent()) {
                    continue;
                }
                for (String source : copy.sources()) {
                    assertFalse(source.contains("*") || source.contains("?") || source.startsWith("http"),
                            "plain paths only: " + source);
                    Path path = DeployFiles.repo().resolve(source).normalize();
                    assertTrue(path.startsWith(DeployFiles.repo()), source + " is inside the context");
                    assertTrue(Files.exists(path), "line " + copy.line() + ": " + source + " exists in the context");
                    String relative = DeployFiles.repo().relativize(path).toString();
                    assertFalse(ignored(relative, patterns), source + " is excluded by the .dockerignore");
                    if (Files.isDirectory(path)) {
                        try (Stream<Path> files = Files.walk(path)) {
                            assertTrue(files.filter(Files::isRegularFile)
                                            .anyMatch(f -> !ignored(DeployFiles.repo().relativize(f).toString(), patterns)),
                                    source + " sends some file");
                        }
                    }
                    checked++;
                }
            }
        }
        assertTrue(checked >= 9, "sources checked: " + checked);
    }

    static String mavenRun() {
        Dockerfile.Stage build = docker.stage("build").orElseThrow(() -> new AssertionError("a stage named build"));
        return build.all("RUN").stream().map(Dockerfile.Instruction::text).filter(t -> t.contains("mvn "))
                .findFirst().orElseThrow(() -> new AssertionError("a RUN mvn in the build stage"));
    }

    static String tag(String pom, String tag) {
        Matcher m = Pattern.compile("<" + tag + ">\\s*([^<]+?)\\s*</" + tag + ">").matcher(pom);
        assertTrue(m.find(), tag);
        return m.group(1);
    }

    /** The io.scoremix artifacts a module's pom depends on (any scope but test). */
    static Set<String> scoremixDependencies(String pom) {
        Set<String> deps = new LinkedHashSet<>();
        Matcher m = Pattern.compile("<dependency>(.*?)</dependency>", Pattern.DOTALL).matcher(pom);
        while (m.find()) {
            String d = m.group(1);
            if (d.contains("<groupId>io.scoremix</groupId>") && !d.contains("<scope>test</scope>")) {
                deps.add(tag(d, "artifactId"));
            }
        }
        return deps;
    }

    @Test
    void buildStageHasEveryPomAndTheSourcesItBuilds() throws IOException {
        Dockerfile.Stage build = docker.stage("build").orElseThrow();
        Set<String> copied = new LinkedHashSet<>();
        for (Dockerfile.Copy c : build.copies()) {
            copied.addAll(c.sources());
        }
        String parent = Files.readString(DeployFiles.repo().resolve("pom.xml"));
        assertTrue(copied.contains("pom.xml"), "the parent pom");
        List<String> modules = new ArrayList<>();
        Matcher m = Pattern.compile("<module>([^<]+)</module>").matcher(parent);
        while (m.find()) {
            modules.add(m.group(1));
            assertTrue(copied.contains(m.group(1) + "/pom.xml"), "the reactor loads " + m.group(1) + "/pom.xml");
        }
        // -pl X -am: X and the modules it depends on are compiled, so their sources must be there.
        Matcher pl = Pattern.compile("-pl\\s+(\\S+)").matcher(mavenRun());
        assertTrue(pl.find() && mavenRun().contains(" -am"), mavenRun());
        List<String> todo = new ArrayList<>(List.of(pl.group(1).split(",")));
        Set<String> built = new LinkedHashSet<>();
        while (!todo.isEmpty()) {
            String module = todo.remove(0);
            if (built.add(module)) {
                String pom = Files.readString(DeployFiles.repo().resolve(module).resolve("pom.xml"));
                for (String artifact : scoremixDependencies(pom)) {
                    for (String other : modules) {
                        String otherPom = Files.readString(DeployFiles.repo().resolve(other).resolve("pom.xml"));
                        if (tag(otherPom.replaceAll("(?s)<parent>.*?</parent>", ""), "artifactId").equals(artifact)) {
                            todo.add(other);
                        }
                    }
                }
            }
        }
        assertEquals(Set.of("spark-job", "core-math"), built);
        for (String module : built) {
            assertTrue(copied.contains(module + "/src"), module + "/src is copied");
        }
    }

    /** The shell's ls glob and the grep -v -e patterns of the RUN that picks the thin jar, applied here. */
    @Test
    void jarSelectionPicksTheThinJarOfMavenPackage() throws IOException {
        String run = mavenRun();
        Matcher ls = Pattern.compile("ls\\s+(\\S+)/([^/\\s]+\\.jar)\\s*\\|\\s*grep -v((?:\\s+-e\\s+'[^']+')+)").matcher(run);
        assertTrue(ls.find(), run);
        assertEquals("spark-job/target", ls.group(1), "the default build folder of spark-job");
        Pattern glob = Pattern.compile(globToRegex(ls.group(2)));
        List<Pattern> excluded = new ArrayList<>();
        Matcher e = Pattern.compile("-e\\s+'([^']+)'").matcher(ls.group(3));
        while (e.find()) {
            excluded.add(Pattern.compile(e.group(1)));
        }
        // This build's spark-job folder (its name may be changed with -Dsm.target), after mvn package.
        Path target = Path.of(System.getProperty("scoremix.sparkjob.build",
                DeployFiles.repo().resolve("spark-job/target").toString()));
        assertTrue(Files.isDirectory(target), "spark-job is packaged before integration-tests run: " + target);
        List<Path> picked;
        try (Stream<Path> files = Files.list(target)) {
            picked = files.filter(f -> glob.matcher(f.getFileName().toString()).matches())
                    .filter(f -> excluded.stream().noneMatch(p -> p.matcher(f.toString()).find())).toList();
        }
        assertEquals(1, picked.size(), "jars the Dockerfile's selection picks in " + target + ": " + picked);
        try (JarFile jar = new JarFile(picked.get(0).toFile())) {
            assertNotNull(jar.getEntry("io/scoremix/cli/Main.class"), "scoremix");
            assertNotNull(jar.getEntry("io/scoremix/core/mixture/GaussianMixture.class"), "core-math, not in Spark's image");
            assertNotNull(jar.getEntry("picocli/CommandLine.class"), "picocli, not in Spark's image");
            assertTrue(jar.stream().noneMatch(j -> j.getName().startsWith("org/apache/spark/")),
                    "thin: Spark comes from the image");
            assertEquals("io.scoremix.cli.Main", jar.getManifest().getMainAttributes().getValue("Main-Class"));
        }
        // The copy the runtime stage takes is the file this RUN writes.
        Matcher cp = Pattern.compile("cp\\s+\"\\$\\(.*\\)\"\\s+(\\S+)").matcher(run);
        assertTrue(cp.find(), run);
        List<Dockerfile.Copy> fromBuild = docker.finalStage().copies().stream()
                .filter(c -> c.from().equals(Optional.of("build"))).toList();
        assertEquals(1, fromBuild.size());
        assertEquals(List.of(cp.group(1)), fromBuild.get(0).sources());
    }

    @Test
    void baseImagesMatchTheVersionsTheJarIsBuiltFor() throws IOException {
        String parent = Files.readString(DeployFiles.repo().resolve("pom.xml"));
        int release = Integer.parseInt(tag(parent, "maven.compiler.release"));
        String runtime = docker.finalStage().image();
        Matcher spark = Pattern.compile("apache/spark:(\\d+\\.\\d+\\.\\d+)-scala(\\d+\\.\\d+)-java(\\d+)-ubuntu").matcher(runtime);
        assertTrue(spark.matches(), "an official Spark image tag: " + runtime);
        assertEquals(tag(parent, "spark.version"), spark.group(1), "Spark version of the image");
        assertEquals(org.apache.spark.package$.MODULE$.SPARK_VERSION(), spark.group(1), "Spark on the test class path");
        assertEquals(tag(parent, "scala.binary.version"), spark.group(2), "Scala of the image");
        assertTrue(Integer.parseInt(spark.group(3)) >= release, "the image's Java runs class files of release " + release);

        Matcher maven = Pattern.compile("maven:(\\d+)\\.(\\d+)-eclipse-temurin-(\\d+)").matcher(docker.stage("build").orElseThrow().image());
        assertTrue(maven.matches(), docker.stage("build").orElseThrow().image());
        assertTrue(Integer.parseInt(maven.group(1)) > 3 || Integer.parseInt(maven.group(2)) >= 8, "Maven 3.8 or later");
        assertTrue(Integer.parseInt(maven.group(3)) >= release, "the build JDK compiles release " + release);
    }

    /**
     * Spark on Kubernetes starts the containers with args ("driver ..." or "executor ...") and no command,
     * so the image's ENTRYPOINT must stay Spark's /opt/entrypoint.sh (apache/spark sets it): the Dockerfile
     * may not replace ENTRYPOINT or CMD. It must end as Spark's non-root user 185, the pod template's
     * runAsUser. And the working directory must be writable by that user: in cluster mode the driver's
     * spark-submit downloads --files, --jars and --archives into its current directory
     * (SparkSubmit.downloadResourcesToCurrentDirectory, SPARK-33782), and Spark's image makes
     * /opt/spark/work-dir for it; a WORKDIR made by COPY as root is not writable by 185.
     */
    @Test
    void runtimeStageKeepsSparksEntrypointUserAndWorkingDirectory() throws IOException {
        Dockerfile.Stage runtime = docker.finalStage();
        assertTrue(runtime.all("ENTRYPOINT").isEmpty(), "ENTRYPOINT stays Spark's /opt/entrypoint.sh");
        assertTrue(runtime.all("CMD").isEmpty(), "no CMD: Spark passes the container args");
        String user = runtime.last("USER").orElseThrow(() -> new AssertionError("a USER")).text();
        assertEquals("185", user);
        KubernetesSerialization yaml = new KubernetesSerialization();
        Pod template = yaml.unmarshal(Files.readString(DeployFiles.repo().resolve(DeployFiles.POD_TEMPLATE)), Pod.class);
        assertEquals(Long.parseLong(user), template.getSpec().getSecurityContext().getRunAsUser(), "template runAsUser");
        Optional<Dockerfile.Instruction> workdir = runtime.last("WORKDIR");
        if (workdir.isPresent()) {
            String dir = workdir.get().text();
            boolean owned = runtime.all("RUN").stream().anyMatch(r -> r.text().matches("(?s).*chown\\s+(-R\\s+)?185\\S*\\s+" + Pattern.quote(dir) + "\\b.*"))
                    || runtime.copies().stream().anyMatch(c -> c.flags().containsKey("chown") && c.destination().startsWith(dir));
            assertTrue(owned, "WORKDIR " + dir + " (line " + workdir.get().line() + ") is not made writable for user 185;"
                    + " keep Spark's /opt/spark/work-dir");
        }
    }

    @Test
    void pathsAgreeWithTheReadmeAndThePodTemplate() throws IOException {
        Dockerfile.Stage runtime = docker.finalStage();
        String section = DeployFiles.readmeSection("### Kubernetes");
        Map<String, String> env = runtime.env();
        // SCOREMIX_CONF names the copied scoremix.properties, and the pod template sets the same value.
        String conf = env.get("SCOREMIX_CONF");
        Dockerfile.Copy confCopy = runtime.copies().stream().filter(c -> c.sources().contains("conf/scoremix.properties"))
                .findFirst().orElseThrow();
        assertTrue(confCopy.destination().endsWith("/"), "copied into a folder: " + confCopy.destination());
        assertEquals(confCopy.destination() + "scoremix.properties", conf);
        Pod template = new KubernetesSerialization().unmarshal(
                Files.readString(DeployFiles.repo().resolve(DeployFiles.POD_TEMPLATE)), Pod.class);
        assertTrue(template.getSpec().getContainers().get(0).getEnv().stream()
                .anyMatch(v -> v.getName().equals("SCOREMIX_CONF") && v.getValue().equals(conf)), "template SCOREMIX_CONF");
        // The README's example folder and jar URL.
        Dockerfile.Copy examples = runtime.copies().stream().filter(c -> c.sources().equals(List.of("conf/examples")))
                .findFirst().orElseThrow();
        assertTrue(section.contains("`" + examples.destination() + "/`"), "README names " + examples.destination());
        String jar = runtime.copies().stream().filter(c -> c.destination().endsWith(".jar")).findFirst().orElseThrow()
                .destination();
        assertTrue(section.contains("SCOREMIX_JAR=local://" + jar + " "), "README submits local://" + jar);
        assertTrue(Files.readString(DeployFiles.repo().resolve(DeployFiles.DOCKERFILE)).contains("local://" + jar),
                "the Dockerfile's header names the same URL");
        assertTrue(Files.readString(DeployFiles.repo().resolve("submit/scoremix-submit")).contains("local://" + jar),
                "submit/scoremix-submit's usage names the same URL");
    }
}
