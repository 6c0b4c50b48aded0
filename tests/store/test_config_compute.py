"""The [compute] section of sonotype.toml: backends, clusters, and combinations refused."""

import pytest

from sonotype.store.config import (
    ClusterSection,
    ComputeSection,
    ConfigError,
    ProjectConfig,
    load_config,
    memory_bytes,
    render_config,
)


def _load(tmp_path, text):
    path = tmp_path / "sonotype.toml"
    path.write_text(text)
    return load_config(path).compute


def test_a_new_project_runs_locally_and_documents_every_key():
    text = render_config(ProjectConfig())
    assert "\n[compute]\n# " in text
    for key in ComputeSection.model_fields:
        if key != "cluster":
            assert f"\n{key} = " in text
    assert ProjectConfig().compute.backend == "local"


def test_a_cluster_table_reads_back(tmp_path):
    compute = _load(
        tmp_path,
        '[compute]\nbackend = "dask"\n\n[compute.cluster]\nkind = "slurm"\ncores = 8\n'
        'memory = "32GB"\nqueue = "gpu"\naccount = "lab"\nwalltime = "02:00:00"\ngpus = 2\n'
        'job_extra_directives = ["--gres=gpu:2"]\nminimum_jobs = 0\nmaximum_jobs = 10\n',
    )
    cluster = compute.cluster
    assert (cluster.kind, cluster.cores, cluster.memory, cluster.gpus) == ("slurm", 8, "32GB", 2)
    assert cluster.worker_processes() == 2  # one per GPU
    config = ProjectConfig(compute=compute)
    path = tmp_path / "again.toml"
    path.write_text(render_config(config))
    assert load_config(path) == config
    assert "\n[compute.cluster]\n" in path.read_text()


def test_worker_processes_share_the_cores_evenly():
    assert ClusterSection(kind="lsf", cores=16).worker_processes() == 4
    assert ClusterSection(kind="lsf", cores=6).worker_processes() == 2
    assert ClusterSection(kind="lsf", cores=6, processes=3).worker_processes() == 3


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[compute]\nscheduler_address = "tcp://a:8786"\n',
         r'\[compute\] scheduler_address is used only with backend = "dask"'),
        ('[compute.cluster]\nkind = "pbs"\n',
         r'\[compute.cluster\] is used only with backend = "dask"'),
        ('[compute]\nbackend = "dask"\nscheduler_address = "tcp://a:8786"\n'
         '[compute.cluster]\nkind = "pbs"\n', "keep one or the other"),
        ('[compute]\nbackend = "dask"\nscheduler_address = "tcp://a:8786"\nn_workers = 2\n',
         r"\[compute\] n_workers sizes a LocalCluster"),
        ('[compute]\nbackend = "dask"\nworkers = 2\n', r"\[compute\] workers sizes the local pool"),
        ('[compute]\nbackend = "dask"\nmemory_limit = "lots"\n',
         r"compute\.memory_limit: 'lots' is not a memory size; .*'16GB'"),
        ('[compute]\nbackend = "slurm"\n', r"compute\.backend: Input should be 'local' or 'dask'"),
        ('[compute]\nbackend = "dask"\n[compute.cluster]\ncores = 4\n',
         r"compute\.cluster\.kind: Field required"),
        ('[compute]\nbackend = "dask"\n[compute.cluster]\nkind = "slurm"\nqueu = "a"\n',
         r"unknown key 'compute\.cluster\.queu'; valid keys here: .*queue"),
        ('[compute]\nbackend = "dask"\n[compute.cluster]\nkind = "lsf"\njobs = 2\n'
         "maximum_jobs = 4\n", r"\[compute.cluster\] jobs = 2 fixes the number of jobs"),
        ('[compute]\nbackend = "dask"\n[compute.cluster]\nkind = "lsf"\nminimum_jobs = 5\n'
         "maximum_jobs = 4\n", "minimum_jobs = 5 is more than maximum_jobs = 4"),
        ('[compute]\nbackend = "dask"\n[compute.cluster]\nkind = "sge"\ncores = 2\n'
         "processes = 4\n", "processes = 4 is more than cores = 2"),
        ('[compute]\nbackend = "dask"\n[compute.cluster]\nkind = "slurm"\ncores = 8\ngpus = 2\n'
         "processes = 4\n", "gpus = 2 needs processes = 2"),
    ],
)  # fmt: skip
def test_bad_settings_are_named(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message):
        _load(tmp_path, text)


def test_memory_sizes():
    assert memory_bytes("16GB") == 16 * 10**9
    assert memory_bytes("16 GiB") == 16 * 2**30
    assert memory_bytes("1.5kB") == 1500
    assert memory_bytes("100") == 100
    assert memory_bytes("2gb") == memory_bytes("2 GB") == 2 * 10**9  # as dask reads them
    with pytest.raises(ValueError, match="'16 parsecs' is not a memory size"):
        memory_bytes("16 parsecs")
