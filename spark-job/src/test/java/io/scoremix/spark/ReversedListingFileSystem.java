package io.scoremix.spark;

import java.io.IOException;
import java.net.URI;
import java.util.Arrays;
import java.util.Collections;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;

/**
 * The local disk under the scheme {@code reversed:}, listing every folder in the reverse of the order
 * that {@code file:} lists it in: the same files seen by two file systems that list them differently
 * (as HDFS, which sorts, and a local disk, which does not). Register with
 * {@code fs.reversed.impl = io.scoremix.spark.ReversedListingFileSystem}.
 */
public class ReversedListingFileSystem extends RawLocalFileSystem {

    static final String SCHEME = "reversed";
    private static final URI NAME = URI.create(SCHEME + ":///");

    @Override
    public URI getUri() {
        return NAME;
    }

    @Override
    public String getScheme() {
        return SCHEME;
    }

    @Override
    public FileStatus[] listStatus(Path f) throws IOException {
        FileStatus[] listed = super.listStatus(f);
        Collections.reverse(Arrays.asList(listed));
        return listed;
    }
}
