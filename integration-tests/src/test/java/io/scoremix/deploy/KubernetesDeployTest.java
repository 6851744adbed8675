package io.scoremix.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.apache.spark.SecurityManager;
import org.apache.spark.SparkConf;
import org.apache.spark.deploy.SparkSubmit;
import org.apache.spark.deploy.SparkSubmitArguments;
import org.apache.spark.deploy.k8s.KubernetesConf;
import org.apache.spark.deploy.k8s.KubernetesDriverConf;
import org.apache.spark.deploy.k8s.KubernetesDriverSpec;
import org.apache.spark.deploy.k8s.KubernetesExecutorConf;
import org.apache.spark.deploy.k8s.KubernetesExecutorSpec;
import org.apache.spark.deploy.k8s.KubernetesUtils;
import org.apache.spark.deploy.k8s.SparkPod;
import org.apache.spark.deploy.k8s.submit.ClientArguments;
import org.apache.spark.deploy.k8s.submit.KubernetesClientApplication;
import org.apache.spark.deploy.k8s.submit.KubernetesDriverBuilder;
import org.apache.spark.resource.ResourceProfile$;
import org.apache.spark.scheduler.cluster.k8s.KubernetesExecutorBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import scala.Option;
import scala.Tuple4;
import scala.jdk.javaapi.CollectionConverters;

/**
 * deploy/k8s/pod-template.yaml and rbac.yaml against Spark's own Kubernetes code (spark-kubernetes 4.2.0),
 * without a cluster. The README's Kubernetes spark-submit command goes through the real
 * submit/scoremix-submit (with a spark-submit that only records its arguments), Spark's
 * SparkSubmitArguments and SparkSubmit.prepareSubmitEnvironment, then KubernetesClientApplication's steps:
 * ClientArguments, KubernetesConf.createDriverConf and KubernetesDriverBuilder, which load the pod
 * template and apply every default feature step. The executor pod is then built the way the driver builds
 * it (KubernetesConf.createExecutorConf and KubernetesExecutorBuilder) from the driver's resulting
 * configuration, with the executor template read from the ConfigMap that Spark ships it in. The fabric8
 * client only parses files: its master URL is a closed local port and nothing is ever sent.
 *
 * <p>What stays unverified: no API server sees these objects (admission, the Role's effect, the
 * NetworkPolicy, scheduling), and no pod runs the image.
 */
class KubernetesDeployTest {

    /** The container name in the pod template (Spark's own would be spark-kubernetes-driver / -executor). */
    static final String TEMPLATE_CONTAINER = "spark-kubernetes-container";
    /** Spark's image user (deploy/docker/Dockerfile, USER). */
    static final long SPARK_UID = 185;
    /**
     * Environment variables that Spark's image entrypoint (/opt/entrypoint.sh of apache/spark-docker,
     * entrypoint.sh.template) reads to start an executor, and the one it reads for the driver.
     */
    static final List<String> ENTRYPOINT_EXECUTOR_ENV = List.of("SPARK_DRIVER_URL", "SPARK_EXECUTOR_ID",
            "SPARK_EXECUTOR_CORES", "SPARK_APPLICATION_ID", "SPARK_EXECUTOR_POD_IP", "SPARK_RESOURCE_PROFILE_ID",
            "SPARK_EXECUTOR_POD_NAME", "SPARK_EXECUTOR_MEMORY");
    static final String ENTRYPOINT_DRIVER_ENV = "SPARK_DRIVER_BIND_ADDRESS";

    static KubernetesClient client;

    @TempDir
    Path tmp;

    @BeforeAll
    static void clientThatNeverConnects() {
        // Config.empty(): no kubeconfig, no service-account files, no environment; port 9 (discard) is closed.
        Config config = new ConfigBuilder(Config.empty()).withMasterUrl("https://127.0.0.1:9").build();
        client = new KubernetesClientBuilder().withConfig(config).build();
    }

    @AfterAll
    static void close() {
        client.close();
    }

    static KubernetesSerialization yaml() {
        return client.getKubernetesSerialization();
    }

    static Pod template() throws IOException {
        return yaml().unmarshal(Files.readString(DeployFiles.repo().resolve(DeployFiles.POD_TEMPLATE)), Pod.class);
    }

    /** The documents of rbac.yaml, each parsed into its typed class (by apiVersion and kind). */
    static List<HasMetadata> rbac() throws IOException {
        String text = Files.readString(DeployFiles.repo().resolve(DeployFiles.RBAC));
        List<HasMetadata> docs = new ArrayList<>();
        for (String doc : text.split("(?m)^---\\s*$")) {
            if (!doc.lines().allMatch(l -> l.isBlank() || l.strip().startsWith("#"))) {
                docs.add(yaml().unmarshal(doc));
            }
        }
        return docs;
    }

    @Test
    void templateAndRbacParseIntoTypedObjectsWithoutUnknownFields() throws IOException {
        Pod pod = template();
        assertEquals(List.of(), DeployFiles.unknownFields(pod), "fields of " + DeployFiles.POD_TEMPLATE);
        List<HasMetadata> docs = rbac();
        assertEquals(List.of(ServiceAccount.class, Role.class, RoleBinding.class),
                docs.stream().map(Object::getClass).toList(), "documents of " + DeployFiles.RBAC);
        for (HasMetadata doc : docs) {
            assertEquals(List.of(), DeployFiles.unknownFields(doc), doc.getKind() + " in " + DeployFiles.RBAC);
        }

        // The check is not vacuous: a misspelt key, which Spark's own loader accepts without a word.
        String misspelt = Files.readString(DeployFiles.repo().resolve(DeployFiles.POD_TEMPLATE))
                .replace("volumeMounts:", "volumeMount:");
        assertEquals(List.of(".spec.containers[0].volumeMount"),
                DeployFiles.unknownFields(yaml().unmarshal(misspelt, Pod.class)));
        Path file = Files.writeString(tmp.resolve("misspelt.yaml"), misspelt);
        SparkPod loaded = KubernetesUtils.loadPodFromTemplate(client, file.toString(), Option.empty(), new SparkConf());
        assertTrue(loaded.container().getVolumeMounts().isEmpty(), "Spark drops the misspelt key silently");
    }

    /** What spark-submit in cluster mode hands to Kubernetes, built by Spark from the README's command. */
    record Submitted(SparkConf conf, KubernetesDriverConf driverConf, KubernetesDriverSpec spec, Pod driverPod,
                     Map<String, String> env) {
    }

    /** The README's command, with {@code extraArgs} added to its spark-submit options. */
    Submitted submitReadmeCommand(List<String> extraArgs) throws Exception {
        List<String> words = new ArrayList<>(DeployFiles.readmeCommand(DeployFiles.readmeSection("### Kubernetes"),
                "submit/scoremix-submit"));
        words.addAll(words.indexOf("--"), extraArgs);
        DeployFiles.Submission s = DeployFiles.throughSubmitWrapper(words, tmp);
        // The README runs from the repository root, where spark-submit reads the template files; this JVM
        // runs elsewhere, so relative local paths are made absolute (after checking that they exist).
        List<String> args = new ArrayList<>();
        for (String a : s.sparkSubmitArgs()) {
            int eq = a.indexOf('=');
            if (a.startsWith("spark.kubernetes.") && a.substring(0, Math.max(eq, 0)).endsWith("podTemplateFile")) {
                Path file = DeployFiles.repo().resolve(a.substring(eq + 1));
                assertTrue(Files.isRegularFile(file), a);
                a = a.substring(0, eq + 1) + file;
            }
            args.add(a);
        }
        SparkSubmitArguments parsed = new SparkSubmitArguments(CollectionConverters.asScala(args).toList(),
                scala.collection.immutable.Map$.MODULE$.<String, String>empty());
        Tuple4<scala.collection.immutable.Seq<String>, scala.collection.immutable.Seq<String>, SparkConf, String> prepared =
                new SparkSubmit().prepareSubmitEnvironment(parsed, Option.empty());
        assertEquals(KubernetesClientApplication.class.getName(), prepared._4(), "spark-submit's child main class");
        SparkConf conf = prepared._3();
        // KubernetesClientApplication.run, up to the point where it talks to the API server.
        ClientArguments clientArgs = ClientArguments.fromCommandLineArgs(
                CollectionConverters.asJava(prepared._1()).toArray(new String[0]));
        KubernetesDriverConf driverConf = KubernetesConf.createDriverConf(conf, KubernetesConf.getKubernetesAppId(),
                clientArgs.mainAppResource(), clientArgs.mainClass(), clientArgs.driverArgs(), clientArgs.proxyUser());
        KubernetesDriverSpec spec = new KubernetesDriverBuilder().buildFromFeatures(driverConf, client);
        // As Client.run assembles the pod it creates: the feature steps' pod plus the Spark container.
        Pod pod = new PodBuilder(spec.pod().pod()).editSpec().addToContainers(spec.pod().container()).endSpec().build();
        return new Submitted(conf, driverConf, spec, pod, s.env());
    }

    static Map<String, String> env(Container c) {
        Map<String, String> env = new LinkedHashMap<>();
        for (EnvVar e : c.getEnv()) {
            env.put(e.getName(), e.getValue());
        }
        return env;
    }

    static String dockerJarPath() throws IOException {
        Dockerfile docker = Dockerfile.read(DeployFiles.repo().resolve(DeployFiles.DOCKERFILE));
        List<Dockerfile.Copy> jars = docker.finalStage().copies().stream()
                .filter(c -> c.destination().endsWith(".jar")).toList();
        assertEquals(1, jars.size(), "one jar COPY in the final stage of the Dockerfile");
        return jars.get(0).destination();
    }

    /** Assertions that hold for the driver and the executor container alike: what the template contributes. */
    static void assertTemplateSurvives(Pod pod, String role) throws IOException {
        Pod template = template();
        Container expected = template.getSpec().getContainers().get(0);
        List<Container> containers = pod.getSpec().getContainers();
        assertEquals(1, containers.size(), role + " containers");
        Container c = containers.get(0);
        assertEquals(TEMPLATE_CONTAINER, expected.getName());
        assertEquals(expected.getName(), c.getName(), role + ": Spark kept the template's container");
        Map<String, String> env = env(c);
        for (EnvVar e : expected.getEnv()) {
            assertEquals(e.getValue(), env.get(e.getName()), role + " env " + e.getName());
        }
        for (VolumeMount m : expected.getVolumeMounts()) {
            assertTrue(c.getVolumeMounts().contains(m), role + " mounts " + c.getVolumeMounts() + " keep " + m);
        }
        for (Volume v : template.getSpec().getVolumes()) {
            assertTrue(pod.getSpec().getVolumes().contains(v), role + " volumes keep " + v);
        }
        // The template's spark-local-dir-1 mount is Spark's local directory, and Spark added no other one.
        List<String> localDirMounts = c.getVolumeMounts().stream().map(VolumeMount::getName)
                .filter(n -> n.startsWith("spark-local-dir-")).toList();
        assertEquals(List.of("spark-local-dir-1"), localDirMounts, role);
        assertEquals("/var/data/spark-local-dir-1", env.get("SPARK_LOCAL_DIRS"), role + " SPARK_LOCAL_DIRS");
        assertEquals(template.getSpec().getSecurityContext(), pod.getSpec().getSecurityContext(), role);
        assertEquals(SPARK_UID, pod.getSpec().getSecurityContext().getRunAsUser(), role + " runAsUser");
        assertEquals(SPARK_UID, pod.getSpec().getSecurityContext().getFsGroup(), role + " fsGroup");
        assertTrue(pod.getSpec().getSecurityContext().getRunAsNonRoot(), role + " runAsNonRoot");
        for (Map.Entry<String, String> l : template.getMetadata().getLabels().entrySet()) {
            assertEquals(l.getValue(), pod.getMetadata().getLabels().get(l.getKey()), role + " label " + l.getKey());
        }
        // No command: the container runs the image's ENTRYPOINT (Spark's /opt/entrypoint.sh) with Spark's args.
        assertTrue(c.getCommand() == null || c.getCommand().isEmpty(), role + " command " + c.getCommand());
    }

    @Test
    void driverPodOfTheReadmeCommand() throws Exception {
        Submitted s = submitReadmeCommand(List.of());
        Pod pod = s.driverPod();
        assertTemplateSurvives(pod, "driver");
        Container c = pod.getSpec().getContainers().get(0);
        String image = s.conf().get("spark.kubernetes.container.image");
        assertEquals("registry.example.com/scoremix:0.1.0", image, "the README's image");
        assertEquals(image, c.getImage());
        // Spark creates the pod in this namespace (the object itself carries none).
        String namespace = s.driverConf().namespace();
        assertEquals("scoremix", namespace);
        assertEquals("driver", pod.getMetadata().getLabels().get("spark-role"));

        // The application jar: the README's local:// path is where the Dockerfile puts the thin jar, and
        // the driver runs it from the image (spark-submit inside the pod, in client mode).
        String jar = s.env().get("SCOREMIX_JAR");
        assertEquals("local://" + dockerJarPath(), jar, "README SCOREMIX_JAR against the Dockerfile's COPY");
        List<String> args = c.getArgs();
        assertEquals("driver", args.get(0), "Spark's entrypoint dispatches on the first argument");
        assertTrue(env(c).containsKey(ENTRYPOINT_DRIVER_ENV), "the entrypoint's " + ENTRYPOINT_DRIVER_ENV);
        int cls = args.indexOf("--class");
        assertEquals("io.scoremix.cli.Main", args.get(cls + 1), args.toString());
        assertEquals(jar, args.get(cls + 2), "primary resource in " + args);
        assertEquals(List.of("fit", "--input", "s3a://bucket/data/general-10d", "--k", "4", "--model",
                "s3a://bucket/models/general-10d"), args.subList(cls + 3, args.size()));
        Map<String, String> props = s.spec().getSystemPropertiesAsJavaMap();
        assertTrue(List.of(props.get("spark.jars").split(",")).contains(jar), "spark.jars " + props.get("spark.jars"));

        // Service account: named by the command, created by rbac.yaml in the pod's namespace, and bound
        // to a Role that grants what Spark's driver does with the API server.
        assertEquals("spark", pod.getSpec().getServiceAccountName());
        assertRbacGrantsTheDriver(pod.getSpec().getServiceAccountName(), namespace);

        // Memory: spark.driver.memory (1g default) plus the 384 MiB minimum overhead.
        assertEquals("1408Mi", c.getResources().getRequests().get("memory").toString());
        assertEquals("1408Mi", c.getResources().getLimits().get("memory").toString());

        // The executor template travels in a ConfigMap, byte for byte, and the driver is pointed at its mount.
        String templateText = Files.readString(DeployFiles.repo().resolve(DeployFiles.POD_TEMPLATE));
        List<ConfigMap> maps = s.spec().getDriverKubernetesResourcesAsJavaList().stream()
                .filter(r -> r instanceof ConfigMap).map(r -> (ConfigMap) r)
                .filter(m -> m.getData().containsValue(templateText)).toList();
        assertEquals(1, maps.size(), "a ConfigMap holding the executor pod template");
        assertFalse(props.get("spark.kubernetes.executor.podTemplateFile").contains("deploy/k8s"),
                "the driver reads the executor template from its ConfigMap mount: "
                        + props.get("spark.kubernetes.executor.podTemplateFile"));
        // What spark-submit itself creates with the submitter's identity (the pod, then these with owner
        // references to it, by server-side apply): the README names each kind among the permissions it lists.
        String section = DeployFiles.readmeSection("### Kubernetes");
        List<HasMetadata> created = new ArrayList<>(s.spec().getDriverPreKubernetesResourcesAsJavaList());
        created.addAll(s.spec().getDriverKubernetesResourcesAsJavaList());
        Set<String> kinds = new TreeSet<>(List.of("Pod", "ConfigMap"));
        created.forEach(r -> kinds.add(r.getKind()));
        assertEquals(Set.of("ConfigMap", "NetworkPolicy", "Pod", "Service"), kinds, "kinds spark-submit creates");
        for (String kind : kinds) {
            String lower = kind.toLowerCase();
            String plural = "`" + (lower.endsWith("y") ? lower.substring(0, lower.length() - 1) + "ies" : lower + "s") + "`";
            assertTrue(section.contains(plural), "the README's Kubernetes section lists the permission on " + plural);
        }
    }

    @Test
    void namedTemplateContainerIsPickedUp() throws Exception {
        Submitted s = submitReadmeCommand(List.of(
                "--conf", "spark.kubernetes.driver.podTemplateContainerName=" + TEMPLATE_CONTAINER,
                "--conf", "spark.kubernetes.executor.podTemplateContainerName=" + TEMPLATE_CONTAINER));
        assertTemplateSurvives(s.driverPod(), "driver");
        Pod executor = executorPod(s);
        assertTemplateSurvives(executor, "executor");
    }

    /**
     * A spec of one's own for generate travels with --files, as on YARN; on Kubernetes Spark must first
     * upload a local file to spark.kubernetes.file.upload.path (shared storage), and refuses without it.
     * The README says so; the image's own examples need neither.
     */
    @Test
    void localFilesNeedAnUploadPath() throws Exception {
        String spec = DeployFiles.repo().resolve("conf/examples/blobs-2d.json").toString();
        Exception e = assertThrows(Exception.class,
                () -> submitReadmeCommand(List.of("--files", spec)));
        String messages = "";
        for (Throwable t = e; t != null; t = t.getCause()) {
            messages += t.getMessage() + "\n";
        }
        assertTrue(messages.contains("spark.kubernetes.file.upload.path"), messages);
        assertTrue(DeployFiles.readmeSection("### Kubernetes").contains("spark.kubernetes.file.upload.path"),
                "the README tells how to ship a spec");
    }

    @Test
    void executorPodAsTheDriverBuildsIt() throws Exception {
        Submitted s = submitReadmeCommand(List.of());
        Pod pod = executorPod(s);
        assertTemplateSurvives(pod, "executor");
        Container c = pod.getSpec().getContainers().get(0);
        assertEquals(s.conf().get("spark.kubernetes.container.image"), c.getImage());
        assertEquals("executor", pod.getMetadata().getLabels().get("spark-role"));
        assertEquals("executor", c.getArgs().get(0), "Spark's entrypoint dispatches on the first argument");
        Map<String, String> env = env(c);
        for (String name : ENTRYPOINT_EXECUTOR_ENV) {
            assertTrue(env.containsKey(name), "the entrypoint's " + name + " in " + env.keySet());
        }
        assertEquals("4", env.get("SPARK_EXECUTOR_CORES"));
        assertEquals("4096m", env.get("SPARK_EXECUTOR_MEMORY"), "the JVM heap, -Xmx of the entrypoint");
        // --executor-memory 4g plus max(384 MiB, 0.1 x 4096 MiB) overhead; --executor-cores 4.
        assertEquals("4505Mi", c.getResources().getRequests().get("memory").toString());
        assertEquals("4", c.getResources().getRequests().get("cpu").toString());
        // Executors run as the driver's service account (no executor one is set).
        assertEquals("spark", pod.getSpec().getServiceAccountName());
        assertEquals(s.driverPod().getMetadata().getName(),
                pod.getMetadata().getOwnerReferences().get(0).getName(), "executors are owned by the driver pod");
    }

    /**
     * The first executor's pod as the driver builds it: the driver's configuration is the spec's system
     * properties (Spark writes them to the driver's spark.properties), and the executor template file it
     * names is the mount of the ConfigMap, here a file with that ConfigMap's content.
     */
    Pod executorPod(Submitted s) throws IOException {
        Map<String, String> props = new HashMap<>(s.spec().getSystemPropertiesAsJavaMap());
        ConfigMap templateMap = s.spec().getDriverKubernetesResourcesAsJavaList().stream()
                .filter(r -> r instanceof ConfigMap).map(r -> (ConfigMap) r)
                .filter(m -> m.getData().size() == 1 && m.getMetadata().getName().contains("podspec"))
                .findFirst().orElseThrow(() -> new AssertionError("no pod template ConfigMap"));
        String mounted = props.get("spark.kubernetes.executor.podTemplateFile");
        Path local = Files.writeString(tmp.resolve(Path.of(mounted).getFileName().toString()),
                templateMap.getData().values().iterator().next());
        props.put("spark.kubernetes.executor.podTemplateFile", local.toString());
        SparkConf conf = new SparkConf(false);
        props.forEach(conf::set);
        KubernetesExecutorConf executorConf = KubernetesConf.createExecutorConf(conf, "1", conf.getAppId(),
                Option.apply(s.driverPod()), 0);
        SecurityManager security = new SecurityManager(conf, Option.empty(),
                org.apache.spark.internal.config.package$.MODULE$.AUTH_SECRET_FILE_EXECUTOR());
        KubernetesExecutorSpec spec = new KubernetesExecutorBuilder().buildFromFeatures(executorConf, security, client,
                ResourceProfile$.MODULE$.getOrCreateDefaultProfile(conf));
        return new PodBuilder(spec.pod().pod()).editSpec().addToContainers(spec.pod().container()).endSpec().build();
    }

    /**
     * rbac.yaml has the service account in the namespace, a RoleBinding of it to a Role in that namespace,
     * and the Role grants, in the core API group, the verbs Spark's driver uses: executor pods (create,
     * get, list, watch, delete, deletecollection and patch, for the allocator, the lifecycle manager and
     * decommissioning labels), the executors' ConfigMap and on-demand PersistentVolumeClaims (create, get,
     * list, delete), and services (create, get, delete; Spark's documentation asks for pods and services).
     */
    static void assertRbacGrantsTheDriver(String serviceAccount, String namespace) throws IOException {
        List<HasMetadata> docs = rbac();
        assertTrue(docs.stream().anyMatch(d -> d instanceof ServiceAccount sa
                && sa.getMetadata().getName().equals(serviceAccount)
                && namespace.equals(sa.getMetadata().getNamespace())), "ServiceAccount " + serviceAccount);
        List<RoleBinding> bindings = docs.stream().filter(d -> d instanceof RoleBinding).map(d -> (RoleBinding) d)
                .filter(b -> namespace.equals(b.getMetadata().getNamespace()))
                .filter(b -> b.getSubjects().stream().anyMatch(sub -> sub.getKind().equals("ServiceAccount")
                        && sub.getName().equals(serviceAccount) && namespace.equals(sub.getNamespace())))
                .toList();
        assertEquals(1, bindings.size(), "RoleBindings of " + serviceAccount);
        RoleBinding binding = bindings.get(0);
        assertEquals("Role", binding.getRoleRef().getKind());
        assertEquals("rbac.authorization.k8s.io", binding.getRoleRef().getApiGroup());
        Role role = docs.stream().filter(d -> d instanceof Role).map(d -> (Role) d)
                .filter(r -> r.getMetadata().getName().equals(binding.getRoleRef().getName())
                        && namespace.equals(r.getMetadata().getNamespace()))
                .findFirst().orElseThrow(() -> new AssertionError("Role " + binding.getRoleRef().getName()));
        Map<String, Set<String>> needed = Map.of(
                "pods", Set.of("create", "get", "list", "watch", "delete", "deletecollection", "patch"),
                "configmaps", Set.of("create", "get", "list", "delete"),
                "persistentvolumeclaims", Set.of("create", "get", "list", "delete"),
                "services", Set.of("create", "get", "delete"));
        for (Map.Entry<String, Set<String>> need : needed.entrySet()) {
            Set<String> granted = new TreeSet<>();
            for (PolicyRule rule : role.getRules()) {
                if (rule.getApiGroups().contains("") && rule.getResources().contains(need.getKey())) {
                    granted.addAll(rule.getVerbs());
                }
            }
            assertTrue(granted.containsAll(need.getValue()), need.getKey() + ": granted " + granted
                    + ", needed " + need.getValue().stream().sorted().collect(Collectors.joining(",")));
        }
    }

    @Test
    void templateNeedsNoSettingsThatSparkOverrides() throws IOException {
        // The template says image, memory and cores come from Spark's settings: it must not set them.
        Container c = template().getSpec().getContainers().get(0);
        assertNull(c.getImage(), "image in the template");
        assertTrue(c.getResources() == null || (c.getResources().getRequests() == null
                && c.getResources().getLimits() == null), "resources in the template");
    }
}
