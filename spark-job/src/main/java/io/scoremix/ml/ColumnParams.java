package io.scoremix.ml;

import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.Identifiable;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * The column and density parameters that {@link ScoreMixture} and {@link ScoreMixtureModel} share (the
 * estimator's values are copied to the model it fits), built for one owner, and the output schema they
 * define. An output column whose name is empty is not produced.
 */
final class ColumnParams {

    static final String DENSITY_ODE = "ode";
    static final String DENSITY_CRUDE = "crude";

    final Param<String> featuresCol;
    final Param<String> predictionCol;
    final Param<String> probabilityCol;
    final Param<String> logDensityCol;
    final Param<String> densityMethod;
    final IntParam densitySteps;

    ColumnParams(Identifiable owner) {
        featuresCol = new Param<>(owner, "featuresCol", "features column: a vector (e.g. from VectorAssembler)");
        predictionCol = new Param<>(owner, "predictionCol",
                "output: index of the crude component of largest posterior (int); empty for none");
        probabilityCol = new Param<>(owner, "probabilityCol",
                "output: posteriors of the crude components (vector summing to 1); empty for none");
        logDensityCol = new Param<>(owner, "logDensityCol",
                "output: log-density of the row under the model (double); empty for none");
        densityMethod = new Param<>(owner, "densityMethod",
                "log-density of logDensityCol: 'ode' (the learned model's probability-flow ODE density, exact for"
                        + " the model, 2 score and 1 divergence evaluations per step) or 'crude' (the crude mixture's"
                        + " closed form, cheap)",
                ParamValidators.inArray(new String[] {DENSITY_ODE, DENSITY_CRUDE}));
        densitySteps = new IntParam(owner, "densitySteps", "ODE steps from T down to delta for densityMethod 'ode'",
                ParamValidators.gtEq(8));
    }

    /**
     * {@code schema} plus the output columns; checks that the features column is a vector and that no
     * output column exists already.
     *
     * @throws IllegalArgumentException naming the column and the problem
     */
    static StructType outputSchema(StructType schema, String features, String prediction, String probability,
                                   String logDensity) {
        StructField f = field(schema, features);
        if (!f.dataType().equals(SQLDataTypes.VectorType())) {
            throw new IllegalArgumentException("featuresCol '" + features + "' must be a vector column (e.g. from"
                    + " VectorAssembler), got " + f.dataType().simpleString());
        }
        StructType out = schema;
        out = add(out, prediction, DataTypes.IntegerType);
        out = add(out, probability, SQLDataTypes.VectorType());
        out = add(out, logDensity, DataTypes.DoubleType);
        return out;
    }

    static StructField field(StructType schema, String name) {
        for (StructField f : schema.fields()) {
            if (f.name().equals(name)) {
                return f;
            }
        }
        throw new IllegalArgumentException("column '" + name + "' does not exist; the columns are "
                + String.join(", ", schema.fieldNames()));
    }

    private static StructType add(StructType schema, String name, DataType type) {
        if (name == null || name.isEmpty()) {
            return schema;
        }
        for (String existing : schema.fieldNames()) {
            if (existing.equals(name)) {
                throw new IllegalArgumentException("output column '" + name + "' already exists");
            }
        }
        return schema.add(name, type, true);
    }
}
