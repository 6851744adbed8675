package io.scoremix.spark;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;

/** Versions of scoremix and of the platform it runs on, for provenance records and {@code --version}. */
public final class Versions {

    private Versions() {
    }

    /** The scoremix version this build was made from (the Maven project version). */
    public static String scoremix() {
        try (InputStream in = Versions.class.getResourceAsStream("version.properties")) {
            if (in == null) {
                return "unknown";
            }
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("scoremix.version", "unknown");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** scoremix, Spark, Scala, Hadoop and Java versions, in that order; Spark's as {@code spark}. */
    public static Map<String, String> all(String sparkVersion) {
        Map<String, String> v = new LinkedHashMap<>();
        v.put("scoremix", scoremix());
        v.put("spark", sparkVersion);
        v.put("scala", scala.util.Properties.versionNumberString());
        v.put("hadoop", org.apache.hadoop.util.VersionInfo.getVersion());
        v.put("java", System.getProperty("java.version") + " (" + System.getProperty("java.vendor") + ")");
        return v;
    }
}
