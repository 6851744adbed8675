"""Example Airflow DAG: fit a scoremix model on each day's data, then draw synthetic points from it.

Needs Airflow 2.4+ (or 3.x) with the Spark provider (pip install apache-airflow-providers-apache-spark)
and a Spark connection (Admin -> Connections, id "spark_default": host yarn, spark://host:7077 or
k8s://https://host:6443, plus deploy-mode and the spark-submit binary in its extras). Each task runs
spark-submit --class io.scoremix.cli.Main <thin jar> <command> <options>, exactly what
submit/scoremix-submit runs; the options are those of the scoremix CLI (README: fit, sample).

Settings come from Airflow Variables when they exist (scoremix_jar, scoremix_data_root, scoremix_k), else
from the defaults below; they are Jinja templates, read when a task runs, not when the scheduler parses
this file. The jar is the thin jar spark-job/target/scoremix-spark-job-VERSION.jar, copied
to a path every spark-submit host can read (HDFS, S3, or local:///... inside a container image).

Behaviour worth knowing:
- scoremix exits 2 on bad input (the message names the file, row and problem); retrying cannot help,
  but the operator cannot tell exit codes apart, so retries stay low.
- fit writes the model folder atomically and --overwrite replaces only a previous scoremix output, so
  re-running a day (clear and retry) is safe. The same input and seed give the same model bit for bit,
  and sample's output depends only on the model, n and seed, so reruns reproduce their outputs exactly.
"""

from datetime import datetime, timedelta

from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

try:  # Airflow 3
    from airflow.sdk import DAG
except ImportError:  # Airflow 2
    from airflow import DAG

# application, name, conf and application_args are templated fields of SparkSubmitOperator.
JAR = "{{ var.value.get('scoremix_jar', 'hdfs:///apps/scoremix/scoremix-spark-job-0.1.0-SNAPSHOT.jar') }}"
DATA_ROOT = "{{ var.value.get('scoremix_data_root', 'hdfs:///data/scoremix') }}"
K = "{{ var.value.get('scoremix_k', '4') }}"

# Spark settings of every task (see conf/spark-defaults.conf for what they mean).
SPARK_CONF = {
    "spark.executor.memory": "4g",
    "spark.executor.cores": "4",
    "spark.driver.memory": "4g",
    "spark.sql.shuffle.partitions": "64",
    "spark.scoremix.progressInterval": "30s",
}

DAY = "{{ ds }}"  # the run's logical date, e.g. 2026-11-29

FIT_ARGS = [
    "fit",
    "--input", f"{DATA_ROOT}/input/{DAY}",
    "--format", "parquet",
    "--k", K,
    "--model", f"{DATA_ROOT}/models/{DAY}",
    "--mode", "default",
    "--seed", "42",
    "--overwrite",
]

SAMPLE_ARGS = [
    "sample",
    "--model", f"{DATA_ROOT}/models/{DAY}",
    "--n", "1000000",
    "--out", f"{DATA_ROOT}/synthetic/{DAY}",
    "--format", "parquet",
    "--seed", "7",
    "--overwrite",
]

with DAG(
    dag_id="scoremix_daily",
    description="Fit a score-matching Gaussian mixture to each day's data and sample synthetic points",
    start_date=datetime(2026, 1, 1),
    schedule="@daily",
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 1, "retry_delay": timedelta(minutes=10)},
    tags=["scoremix", "spark"],
) as dag:
    fit = SparkSubmitOperator(
        task_id="fit",
        conn_id="spark_default",
        application=JAR,
        java_class="io.scoremix.cli.Main",
        name="scoremix-fit-{{ ds_nodash }}",
        conf=SPARK_CONF,
        application_args=FIT_ARGS,
    )

    sample = SparkSubmitOperator(
        task_id="sample",
        conn_id="spark_default",
        application=JAR,
        java_class="io.scoremix.cli.Main",
        name="scoremix-sample-{{ ds_nodash }}",
        conf=SPARK_CONF,
        application_args=SAMPLE_ARGS,
    )

    fit >> sample
