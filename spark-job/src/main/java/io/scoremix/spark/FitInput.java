package io.scoremix.spark;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.NoSuchElementException;
import org.apache.spark.ml.attribute.AttributeGroup;
import org.apache.spark.ml.linalg.DenseVector;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.linalg.VectorUDT;
import org.apache.spark.sql.AnalysisException;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.DataFrameReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.DecimalType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * The training data of {@code fit}: the input read with Spark, the feature columns (and weight column)
 * resolved against its schema on the driver, and a frame of exactly those columns plus the source file
 * and split offset of every row (for messages naming the file and row of a bad value).
 *
 * <p>Columns: with {@code --features} the listed ones, in that order; otherwise every numeric column
 * (byte, short, int, long, float, double, decimal) except the weight column, in schema order. CSV is read
 * with its header and without schema inference (which would cost a full extra read): all CSV columns
 * are strings, every one is a feature by default, and values are parsed on the executors with
 * {@link Double#parseDouble}, so an unparsable value is reported with its file, row and column. With a
 * vector column ({@code --vector-col}) the features are the entries of a Spark ML vector (dense or
 * sparse), named {@code <column>_0 ..}; a vector of another length is a bad row.
 *
 * <p>Order: the files of a folder are read in the order of their paths relative to the folder
 * ({@link OrderedFiles}), so the partitions, hence the row keys and the model, are the same for the same
 * files on any file system (Spark alone would keep the listing order of equal-sized files).
 *
 * <p>Bad rows: {@link Blocks} stops at the first one and names it ({@link BadRow}), or, when skipping,
 * drops it and counts it by {@link Problem} kind. Skipped rows take no row key.
 */
final class FitInput {

    private static final String FILE_COLUMN = "__scoremix_file";
    private static final String SPLIT_COLUMN = "__scoremix_split_start";
    /** CSV only: Spark's corrupt-record column, set on a row whose number of fields differs from the header's. */
    private static final String CORRUPT_COLUMN = "__scoremix_malformed";

    private final Dataset<Row> frame;
    private final List<String> features;
    private final String weight;
    private final RowParser parser;

    private FitInput(Dataset<Row> frame, List<String> features, String weight, RowParser parser) {
        this.frame = frame;
        this.features = features;
        this.weight = weight;
        this.parser = parser;
    }

    /**
     * Reads the schema of the input and resolves the columns; reads no data (except JSON, whose schema
     * Spark infers by reading, and CSV, whose header Spark reads).
     *
     * @throws BadInputException if the input does not exist, a named column is missing or not numeric, or
     *                           no feature column is left
     */
    static FitInput open(SparkSession spark, FitConfig config) {
        boolean csv = config.format() == InputFormat.CSV;
        Dataset<Row> listed = listed(spark, config.input(), config.format());
        OrderedFiles files = OrderedFiles.of(spark, listed, config.input());
        Dataset<Row> raw;
        if (csv) {
            // With the header's columns as an explicit schema plus a corrupt-record column: Spark's permissive
            // CSV reader fills missing fields with null but silently drops extra ones, unless it has such a
            // column to put the whole malformed line in.
            StructType schema = listed.schema().add(CORRUPT_COLUMN, DataTypes.StringType, true);
            raw = files.read(spark.read().format("csv").option("header", "true").option("mode", "PERMISSIVE")
                    .option("columnNameOfCorruptRecord", CORRUPT_COLUMN).schema(schema));
        } else {
            raw = files.files() > 0 ? files.read(reader(spark, config.format()).schema(listed.schema())) : listed;
        }
        return of(raw, config, csv);
    }

    /**
     * The input as {@code fit}, {@code score} and {@code evaluate} read it: a folder's files in the order of
     * their paths ({@link OrderedFiles}), CSV with its header and every column as text. A Dataset read
     * this way gives the Dataset entry of {@code fit} the rows of the path entry in the same order.
     *
     * @throws BadInputException if the input does not exist or cannot be read in that format
     */
    static Dataset<Row> read(SparkSession spark, String input, InputFormat format) {
        Dataset<Row> listed = listed(spark, input, format);
        OrderedFiles files = OrderedFiles.of(spark, listed, input);
        return files.files() > 0 ? files.read(reader(spark, format).schema(listed.schema())) : listed;
    }

    private static DataFrameReader reader(SparkSession spark, InputFormat format) {
        DataFrameReader reader = spark.read().format(format.id());
        return format == InputFormat.CSV ? reader.option("header", "true").option("inferSchema", "false") : reader;
    }

    /** The input read with Spark's own listing (for its schema and its files). */
    private static Dataset<Row> listed(SparkSession spark, String input, InputFormat format) {
        try {
            return reader(spark, format).load(input);
        } catch (Exception e) {
            if (e instanceof AnalysisException) {
                throw new BadInputException("cannot read the input " + input + " as " + format.id() + ": "
                        + firstLine(e.getMessage()), e);
            }
            throw e;
        }
    }

    /**
     * Resolves the columns of an in-memory Dataset ({@code config.input()} names it in messages; its
     * format is ignored). String columns are parsed as numbers on the executors, as for CSV.
     *
     * @throws BadInputException if a named column is missing or not numeric, or no feature column is left
     */
    static FitInput of(Dataset<Row> raw, FitConfig config) {
        return of(raw, config, false);
    }

    private static FitInput of(Dataset<Row> raw, FitConfig config, boolean csv) {
        List<String> available = new ArrayList<>(List.of(raw.columns()));
        available.remove(CORRUPT_COLUMN);
        String weight = config.weightColumn();
        if (weight != null) {
            requireColumn(raw, weight, "weight column", available, config);
        }
        if (config.vectorColumn() != null) {
            return ofVector(raw, config, weight, available);
        }
        List<String> features = new ArrayList<>();
        if (config.features().isEmpty()) {
            for (StructField f : raw.schema().fields()) {
                if (!f.name().equals(weight) && !f.name().equals(CORRUPT_COLUMN) && (csv || isNumeric(f.dataType()))) {
                    features.add(f.name());
                }
            }
            if (features.isEmpty()) {
                throw new BadInputException("the input " + config.input() + " has no numeric column to use as a "
                        + "feature (columns: " + describe(raw) + "); name them with --features");
            }
        } else {
            for (String f : config.features()) {
                requireColumn(raw, f, "feature column", available, config);
                features.add(f);
            }
        }
        List<Column> columns = new ArrayList<>();
        int[] kinds = new int[features.size()];
        for (int i = 0; i < features.size(); i++) {
            columns.add(raw.col(quote(features.get(i))));
            kinds[i] = kindOf(raw, features.get(i));
        }
        int weightKind = -1;
        if (weight != null) {
            columns.add(raw.col(quote(weight)));
            weightKind = kindOf(raw, weight);
        }
        columns.add(functions.input_file_name().as(FILE_COLUMN));
        columns.add(functions.input_file_block_start().as(SPLIT_COLUMN));
        boolean fieldCheck = csv && available.size() < raw.columns().length;
        if (fieldCheck) {
            columns.add(raw.col(CORRUPT_COLUMN));
        }
        Dataset<Row> frame = raw.select(columns.toArray(new Column[0]));
        RowParser parser = new RowParser(features.toArray(new String[0]), kinds, weight, weightKind, csv,
                config.input(), null, fieldCheck ? available.size() : -1);
        return new FitInput(frame, List.copyOf(features), weight, parser);
    }

    /**
     * A Spark ML vector column as the features: its size from the column's ML attribute metadata when
     * present (as VectorAssembler writes it), else from the first non-null row (a one-row read). The
     * features are named {@code <column>_0 .. <column>_{d-1}}.
     */
    private static FitInput ofVector(Dataset<Row> raw, FitConfig config, String weight, List<String> available) {
        String name = config.vectorColumn();
        if (!available.contains(name)) {
            throw new BadInputException("the vector column '" + name + "' is not in the input " + config.input()
                    + "; its columns are: " + describe(raw));
        }
        StructField field = raw.schema().apply(name);
        if (!(field.dataType() instanceof VectorUDT)) {
            throw new BadInputException("the vector column '" + name + "' of " + config.input() + " has type "
                    + field.dataType().simpleString() + "; it must be a Spark ML vector");
        }
        int d = AttributeGroup.fromStructField(field).size();
        if (d < 0) {
            List<Row> first = raw.select(raw.col(quote(name))).where(raw.col(quote(name)).isNotNull()).limit(1)
                    .collectAsList();
            if (first.isEmpty()) {
                throw new BadInputException("the vector column '" + name + "' of " + config.input()
                        + " has no non-null value");
            }
            d = ((Vector) first.get(0).get(0)).size();
        }
        if (d < 1) {
            throw new BadInputException("the vector column '" + name + "' of " + config.input() + " holds empty vectors");
        }
        List<String> features = new ArrayList<>(d);
        for (int i = 0; i < d; i++) {
            features.add(name + "_" + i);
        }
        List<Column> columns = new ArrayList<>();
        columns.add(raw.col(quote(name)));
        int weightKind = -1;
        if (weight != null) {
            columns.add(raw.col(quote(weight)));
            weightKind = kindOf(raw, weight);
        }
        columns.add(functions.input_file_name().as(FILE_COLUMN));
        columns.add(functions.input_file_block_start().as(SPLIT_COLUMN));
        Dataset<Row> frame = raw.select(columns.toArray(new Column[0]));
        RowParser parser = new RowParser(features.toArray(new String[0]), null, weight, weightKind, false,
                config.input(), name, -1);
        return new FitInput(frame, List.copyOf(features), weight, parser);
    }

    /** The selected columns: features, then the weight (if any), then file name and split start. */
    Dataset<Row> frame() {
        return frame;
    }

    /** The feature column names, in order. */
    List<String> features() {
        return features;
    }

    /** The weight column, or null. */
    String weight() {
        return weight;
    }

    /** The executor-side row reader. */
    RowParser parser() {
        return parser;
    }

    private static void requireColumn(Dataset<Row> raw, String name, String what, List<String> available,
                                      FitConfig config) {
        if (!available.contains(name)) {
            throw new BadInputException("the " + what + " '" + name + "' is not in the input " + config.input()
                    + " (" + config.format().id() + "); its columns are: " + describe(raw));
        }
        DataType type = raw.schema().apply(name).dataType();
        if (!isNumeric(type) && !type.equals(DataTypes.StringType)) {
            throw new BadInputException("the " + what + " '" + name + "' of " + config.input() + " has type "
                    + type.simpleString() + "; it must be numeric (or text holding numbers)");
        }
    }

    private static String describe(Dataset<Row> raw) {
        List<String> parts = new ArrayList<>();
        for (StructField f : raw.schema().fields()) {
            parts.add(f.name() + " (" + f.dataType().simpleString() + ")");
        }
        return String.join(", ", parts);
    }

    private static int kindOf(Dataset<Row> raw, String name) {
        return isNumeric(raw.schema().apply(name).dataType()) ? RowParser.NUMBER : RowParser.TEXT;
    }

    static boolean isNumeric(DataType t) {
        return t.equals(DataTypes.DoubleType) || t.equals(DataTypes.FloatType) || t.equals(DataTypes.LongType)
                || t.equals(DataTypes.IntegerType) || t.equals(DataTypes.ShortType) || t.equals(DataTypes.ByteType)
                || t instanceof DecimalType;
    }

    private static String quote(String name) {
        return "`" + name.replace("`", "``") + "`";
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    /**
     * Executor side: turns a row of {@link #frame()} into features and a weight, and names the problem of
     * a bad one. Serializable (shipped in closures); immutable.
     */
    static final class RowParser implements Serializable {
        static final int NUMBER = 0;
        static final int TEXT = 1;
        private static final long serialVersionUID = 1L;

        private final String[] names;
        private final int[] kinds;
        private final String weight;
        private final int weightKind;
        private final boolean csv;
        private final String source;
        private final String vector;
        private final int headerFields;

        /**
         * @param kinds  per feature column {@link #NUMBER} or {@link #TEXT}; null with a vector column
         * @param source names the input when a row has no file (an in-memory Dataset)
         * @param vector the Spark ML vector column holding all features, or null for one column per feature
         * @param headerFields CSV: the number of fields of the header, when the row's last column is Spark's
         *                     corrupt-record column (set on a row with another number of fields); else -1
         */
        RowParser(String[] names, int[] kinds, String weight, int weightKind, boolean csv, String source,
                  String vector, int headerFields) {
            this.names = names;
            this.kinds = kinds;
            this.weight = weight;
            this.weightKind = weightKind;
            this.csv = csv;
            this.source = source;
            this.vector = vector;
            this.headerFields = headerFields;
        }

        int dimension() {
            return names.length;
        }

        /** Columns of a row holding features and weight (the file name and split start follow them). */
        int columns() {
            return (vector == null ? names.length : 1) + (weight == null ? 0 : 1);
        }

        boolean weighted() {
            return weight != null;
        }

        /**
         * Reads one row into {@code x[off .. off + d)} and {@code w[j]} (if weighted).
         *
         * @return null if the row is good, else what is wrong with it
         */
        String parse(Row row, double[] x, int off, double[] w, int j) {
            return parse(row, x, off, w, j, null);
        }

        /**
         * {@link #parse(Row, double[], int, double[], int)}, also storing the kind of problem in
         * {@code kind[0]} when {@code kind} is not null and the row is bad.
         */
        String parse(Row row, double[] x, int off, double[] w, int j, Problem[] kind) {
            int d = names.length;
            int next;
            if (headerFields > 0 && !row.isNullAt(columns() + 2)) {
                return bad(kind, Problem.WRONG_LENGTH, "has a number of fields other than the header's "
                        + headerFields);
            }
            if (vector != null) {
                Object v = row.get(0);
                if (v == null) {
                    return bad(kind, Problem.EMPTY, "vector column '" + vector + "' is empty (null)");
                }
                Vector vec = (Vector) v;
                if (vec.size() != d) {
                    return bad(kind, Problem.WRONG_LENGTH, "vector column '" + vector + "' holds " + vec.size()
                            + " values, expected " + d);
                }
                double[] values = vec instanceof DenseVector dense ? dense.values() : vec.toArray();
                for (int r = 0; r < d; r++) {
                    if (!Double.isFinite(values[r])) {
                        return bad(kind, Problem.NOT_FINITE, "vector column '" + vector + "' value " + r + " is "
                                + values[r] + " (features must be finite)");
                    }
                }
                System.arraycopy(values, 0, x, off, d);
                next = 1;
            } else {
                for (int r = 0; r < d; r++) {
                    Object v = row.get(r);
                    String problem = value(v, kinds[r], x, off + r);
                    if (problem != null) {
                        return bad(kind, v == null || problem.startsWith("is empty") ? Problem.EMPTY
                                : Problem.NOT_A_NUMBER, "column '" + names[r] + "' " + problem);
                    }
                    if (!Double.isFinite(x[off + r])) {
                        return bad(kind, Problem.NOT_FINITE, "column '" + names[r] + "' is " + x[off + r]
                                + " (features must be finite)");
                    }
                }
                next = d;
            }
            if (weight != null) {
                String problem = value(row.get(next), weightKind, w, j);
                if (problem != null) {
                    return bad(kind, Problem.BAD_WEIGHT, "weight column '" + weight + "' " + problem);
                }
                if (!Double.isFinite(w[j]) || w[j] < 0) {
                    return bad(kind, Problem.BAD_WEIGHT, "weight column '" + weight + "' is " + w[j]
                            + " (weights must be finite and non-negative)");
                }
            }
            return null;
        }

        private static String bad(Problem[] kind, Problem problem, String message) {
            if (kind != null) {
                kind[0] = problem;
            }
            return message;
        }

        private static String value(Object v, int kind, double[] out, int i) {
            if (v == null) {
                return "is empty (null)";
            }
            if (kind == NUMBER) {
                out[i] = ((Number) v).doubleValue();
                return null;
            }
            String s = v.toString().trim();
            if (s.isEmpty()) {
                return "is empty";
            }
            try {
                out[i] = Double.parseDouble(s);
            } catch (NumberFormatException e) {
                return "holds '" + (s.length() > 40 ? s.substring(0, 40) + "..." : s) + "', not a number";
            }
            return null;
        }

        /** The message of a bad row. */
        String message(BadRow bad) {
            String where = csv && bad.splitStart() == 0 ? "data row " + bad.rowInSplit() + " (line "
                    + (bad.rowInSplit() + 1) + ")"
                    : bad.splitStart() <= 0 ? "row " + bad.rowInSplit()
                    : "row " + bad.rowInSplit() + " of the part starting at byte " + bad.splitStart();
            String file = bad.file() == null || bad.file().isEmpty() ? source + " (partition " + bad.partition() + ")"
                    : bad.file();
            return String.format(Locale.ROOT, "%s: %s: %s", file, where, bad.problem());
        }
    }

    /** The kinds of bad row that {@code --bad-rows skip} counts. */
    enum Problem {
        /** A missing (null) or empty value. */
        EMPTY("empty"),
        /** Text that is not a decimal number. */
        NOT_A_NUMBER("not_a_number"),
        /** A NaN or infinite feature. */
        NOT_FINITE("not_finite"),
        /** A weight that is missing, not a number, negative or not finite. */
        BAD_WEIGHT("bad_weight"),
        /** A vector of another size than the first one. */
        WRONG_LENGTH("wrong_length");

        private final String id;

        Problem(String id) {
            this.id = id;
        }

        /** The name in logs, provenance and results. */
        String id() {
            return id;
        }
    }

    /**
     * The first bad row of a partition: its partition and position there, its file, the byte where the
     * file's split starts and its 1-based row number in that split, and the problem.
     */
    record BadRow(int partition, long position, String file, long splitStart, long rowInSplit, String problem)
            implements Serializable {
    }

    /**
     * Executor side: a partition's rows in blocks of at most {@code blockRows} rows, stopping before the
     * first bad row ({@link #bad()} then names it).
     */
    static final class Blocks {
        private final Iterator<Row> rows;
        private final RowParser parser;
        private final int partition;
        private final int fileIndex;
        private final double[] x;
        private final double[] w;
        private final int capacity;
        private final boolean skip;
        private final long[] skipped = new long[Problem.values().length];
        private final Problem[] kind = new Problem[1];
        private BadRow firstSkipped;
        private String file = "";
        private long splitStart = -1;
        private long rowInSplit;
        private long position;
        private BadRow bad;

        Blocks(Iterator<Row> rows, RowParser parser, int partition, int blockRows) {
            this(rows, parser, partition, blockRows, false);
        }

        /** @param skip whether bad rows are skipped and counted ({@link #skipped()}) instead of stopping */
        Blocks(Iterator<Row> rows, RowParser parser, int partition, int blockRows, boolean skip) {
            this.rows = rows;
            this.parser = parser;
            this.partition = partition;
            this.skip = skip;
            this.fileIndex = parser.columns();
            this.capacity = blockRows;
            this.x = new double[blockRows * parser.dimension()];
            this.w = parser.weighted() ? new double[blockRows] : null;
        }

        /** Fills the next block; returns its number of rows, 0 at the end or at a bad row. */
        int next() {
            if (bad != null) {
                return 0;
            }
            int d = parser.dimension();
            int m = 0;
            while (m < capacity && rows.hasNext()) {
                Row row = rows.next();
                String f = row.getString(fileIndex);
                long start = row.isNullAt(fileIndex + 1) ? -1 : row.getLong(fileIndex + 1);
                if (!f.equals(file) || start != splitStart) {
                    file = f;
                    splitStart = start;
                    rowInSplit = 0;
                }
                rowInSplit++;
                String problem = parser.parse(row, x, m * d, w, m, kind);
                if (problem != null) {
                    if (skip) {
                        skipped[kind[0].ordinal()]++;
                        if (firstSkipped == null) {
                            firstSkipped = new BadRow(partition, position, f, splitStart, rowInSplit, problem);
                        }
                        continue;
                    }
                    bad = new BadRow(partition, position, f, splitStart, rowInSplit, problem);
                    return m;
                }
                position++;
                m++;
            }
            return m;
        }

        /** Rows n x d of the last block. */
        double[] x() {
            return x;
        }

        /** Weights of the last block, or null if unweighted. */
        double[] w() {
            return w;
        }

        /** Good rows read so far. */
        long position() {
            return position;
        }

        /** Rows skipped so far, per {@link Problem} ordinal (all zero unless skipping). */
        long[] skipped() {
            return skipped.clone();
        }

        /** The first skipped row, or null. */
        BadRow firstSkipped() {
            return firstSkipped;
        }

        /** The bad row that stopped the reading, or null. */
        BadRow bad() {
            return bad;
        }

        /** Throws if a row is bad (for passes after the validating one; the input changed under us). */
        void requireGood() {
            if (bad != null) {
                throw new IllegalStateException("the input changed during the fit: " + parser.message(bad));
            }
        }
    }

    static <T> Iterator<T> single(T value) {
        return new Iterator<>() {
            private boolean done;

            @Override
            public boolean hasNext() {
                return !done;
            }

            @Override
            public T next() {
                if (done) {
                    throw new NoSuchElementException();
                }
                done = true;
                return value;
            }
        };
    }
}
