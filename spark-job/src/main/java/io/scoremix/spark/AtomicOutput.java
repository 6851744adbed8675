package io.scoremix.spark;

import java.io.IOException;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An output directory that appears whole or not at all. Jobs write into a hidden temporary sibling
 * ({@code <parent>/.<name>._tmp-<uuid>}; the leading dot hides it from Hadoop and Spark readers of the
 * parent) and {@link #commit()} renames it to the target with the Hadoop FileSystem API, which is
 * atomic on HDFS and on local file systems. An existing target is replaced only when overwriting is
 * allowed, only once the new output is complete, and only if it looks like a scoremix output (it holds
 * {@value #PROVENANCE_FILE}) or is empty, so a mistyped {@code --out $HOME --overwrite} deletes nothing.
 * Object stores (s3a:) have no atomic directory rename: there the commit is a copy, still never
 * half-visible under the target name but not atomic.
 */
final class AtomicOutput {

    /** The provenance record every scoremix output directory holds. */
    static final String PROVENANCE_FILE = "_scoremix.json";

    private static final Logger LOG = LoggerFactory.getLogger(AtomicOutput.class);

    private final FileSystem fs;
    private final Path target;
    private final Path temp;
    private final boolean overwrite;

    private AtomicOutput(FileSystem fs, Path target, Path temp, boolean overwrite) {
        this.fs = fs;
        this.target = target;
        this.temp = temp;
        this.overwrite = overwrite;
    }

    /**
     * Checks the target and chooses the temporary directory; creates nothing.
     *
     * @throws BadInputException if the target exists and may not (or must not) be replaced
     */
    static AtomicOutput prepare(Configuration hadoop, String output, boolean overwrite) throws IOException {
        Path path = new Path(output);
        FileSystem fs = path.getFileSystem(hadoop);
        Path target = fs.makeQualified(path);
        if (target.getParent() == null) {
            throw new BadInputException("refusing to write to the root directory " + target);
        }
        AtomicOutput out = new AtomicOutput(fs, target, sibling(target, "tmp"), overwrite);
        out.checkTarget();
        return out;
    }

    /** The qualified target directory. */
    Path target() {
        return target;
    }

    /** The temporary directory to write into (not yet created). */
    Path temp() {
        return temp;
    }

    /** The file system of target and temp. */
    FileSystem fileSystem() {
        return fs;
    }

    /**
     * Moves the finished temporary directory to the target, replacing an existing target if allowed.
     * On failure the previous target, if any, is put back.
     */
    void commit() throws IOException {
        Path old = null;
        if (fs.exists(target)) {
            checkTarget();
            old = sibling(target, "old");
            if (!fs.rename(target, old)) {
                throw new IOException("could not move the existing " + target + " aside to " + old);
            }
        }
        // rename(src, dst) moves src *into* dst when dst is a directory: target must not exist here.
        if (!fs.rename(temp, target)) {
            if (old != null && !fs.rename(old, target)) {
                LOG.error("could not restore the previous output from {}", old);
            }
            throw new IOException("could not rename " + temp + " to " + target);
        }
        if (old != null && !fs.delete(old, true)) {
            LOG.warn("could not delete the replaced output {}", old);
        }
    }

    /** Deletes the temporary directory, if any; failures are logged, not thrown. */
    void abort() {
        try {
            if (fs.exists(temp) && !fs.delete(temp, true)) {
                LOG.warn("could not delete the temporary output {}", temp);
            }
        } catch (IOException e) {
            LOG.warn("could not delete the temporary output {}: {}", temp, e.toString());
        }
    }

    private void checkTarget() throws IOException {
        if (!fs.exists(target)) {
            return;
        }
        if (!overwrite) {
            throw new BadInputException(target + " already exists (pass --overwrite to replace it)");
        }
        FileStatus status = fs.getFileStatus(target);
        if (!status.isDirectory()) {
            throw new BadInputException("refusing to replace " + target + ": it is a file, not a scoremix output");
        }
        boolean empty = fs.listStatus(target).length == 0;
        if (!empty && !fs.exists(new Path(target, PROVENANCE_FILE))) {
            throw new BadInputException("refusing to replace " + target + ": it is not a scoremix output (no "
                    + PROVENANCE_FILE + "); delete it yourself if it should go");
        }
    }

    private static Path sibling(Path target, String tag) {
        return new Path(target.getParent(), "." + target.getName() + "._" + tag + "-" + UUID.randomUUID());
    }
}
