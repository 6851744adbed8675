"""Loads an Airflow DAG file with a stand-in for the airflow package and prints its tasks as JSON.

Usage: python3 run_dag_with_stub_airflow.py DAG_FILE 2|3

Airflow is not installed where the tests run, so this registers minimal modules under the import paths
the DAG uses (airflow.DAG or airflow.sdk.DAG, and the Spark provider's SparkSubmitOperator), runs the
file, and prints {"dags": [...], "tasks": [{task_id, kwargs, downstream}]}. The stand-in operator accepts
only the keyword arguments of the real SparkSubmitOperator (provider 4.x/5.x) and BaseOperator, so a
misspelled argument fails here as it would in Airflow. "2" hides airflow.sdk (Airflow 2 layout), "3"
provides it.
"""
import json
import runpy
import sys
import types

SPARK_SUBMIT_ARGS = {
    "application", "conf", "conn_id", "files", "py_files", "archives", "driver_class_path", "jars",
    "java_class", "packages", "exclude_packages", "repositories", "total_executor_cores", "executor_cores",
    "executor_memory", "driver_memory", "keytab", "principal", "proxy_user", "name", "num_executors",
    "status_poll_interval", "application_args", "env_vars", "verbose", "spark_binary", "properties_file",
    "yarn_queue", "deploy_mode", "use_krb5ccache",
}
BASE_OPERATOR_ARGS = {
    "task_id", "owner", "email", "retries", "retry_delay", "retry_exponential_backoff", "max_retry_delay",
    "start_date", "end_date", "depends_on_past", "wait_for_downstream", "dag", "params", "default_args",
    "priority_weight", "weight_rule", "queue", "pool", "pool_slots", "execution_timeout", "trigger_rule",
    "do_xcom_push", "doc_md", "executor_config", "max_active_tis_per_dag", "sla", "on_failure_callback",
    "on_success_callback", "on_retry_callback",
}
DAG_ARGS = {
    "dag_id", "description", "schedule", "schedule_interval", "start_date", "end_date", "catchup",
    "max_active_runs", "max_active_tasks", "default_args", "tags", "params", "doc_md", "dagrun_timeout",
    "template_searchpath", "user_defined_macros", "render_template_as_native_obj", "is_paused_upon_creation",
}

DAGS = []
TASKS = []
CURRENT = []


class DAG:
    def __init__(self, dag_id=None, **kwargs):
        unknown = set(kwargs) - DAG_ARGS
        if unknown:
            raise TypeError("DAG() got unexpected keyword arguments %s" % sorted(unknown))
        self.dag_id = dag_id
        DAGS.append({"dag_id": dag_id, "schedule": kwargs.get("schedule")})

    def __enter__(self):
        CURRENT.append(self)
        return self

    def __exit__(self, *exc):
        CURRENT.pop()
        return False


class SparkSubmitOperator:
    def __init__(self, **kwargs):
        unknown = set(kwargs) - SPARK_SUBMIT_ARGS - BASE_OPERATOR_ARGS
        if unknown:
            raise TypeError("SparkSubmitOperator() got unexpected keyword arguments %s" % sorted(unknown))
        if "task_id" not in kwargs:
            raise TypeError("SparkSubmitOperator() needs a task_id")
        if not CURRENT and "dag" not in kwargs:
            raise RuntimeError("operator %s created outside a DAG" % kwargs["task_id"])
        self.task_id = kwargs["task_id"]
        self.kwargs = kwargs
        self.downstream = []
        TASKS.append(self)

    def __rshift__(self, other):
        for o in other if isinstance(other, (list, tuple)) else [other]:
            self.downstream.append(o.task_id)
        return other


def module(name, **attrs):
    m = types.ModuleType(name)
    m.__dict__.update(attrs)
    sys.modules[name] = m
    return m


def main():
    dag_file, layout = sys.argv[1], sys.argv[2]
    module("airflow", DAG=DAG, __path__=[])
    module("airflow.models", __path__=[])
    if layout == "3":
        module("airflow.sdk", DAG=DAG)
    for name in ["airflow.providers", "airflow.providers.apache", "airflow.providers.apache.spark",
                 "airflow.providers.apache.spark.operators"]:
        module(name, __path__=[])
    module("airflow.providers.apache.spark.operators.spark_submit", SparkSubmitOperator=SparkSubmitOperator)
    runpy.run_path(dag_file, run_name="dag_under_test")
    json.dump({"dags": DAGS,
               "tasks": [{"task_id": t.task_id, "kwargs": {k: v for k, v in t.kwargs.items() if k != "retry_delay"},
                          "downstream": t.downstream} for t in TASKS]},
              sys.stdout, default=str)


if __name__ == "__main__":
    main()
