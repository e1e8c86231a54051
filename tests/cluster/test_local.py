"""The local backend: independent stages side by side on N slots, recorded by DVC as a serial
``dvc repro`` records them."""

import time

import pytest

from tests.cluster import locks
from tests.cluster.tiny import TARGET, make_tiny_repo
from tests.cluster.toy import assert_side_by_side_and_recorded_as_serial, cluster, dvc, make_toy_repo
from xstilts.cluster import dag


def test_plan_is_upstream_first_and_skips_up_to_date_stages(tmp_path):
    repo = make_toy_repo(tmp_path / "toy", sleep=0)
    names = [s.name for s in dag.plan(str(repo))]
    assert names[0] == "a" and names[-1] == "d" and set(names) == {"a", "b", "c", "d"}
    assert {s.name: set(s.after) for s in dag.plan(str(repo))}["d"] == {"b", "c"}
    assert [s.name for s in dag.plan(str(repo), ["b"])] == ["a", "b"]  # a target brings its upstream only
    assert dvc(repo, "repro").returncode == 0
    assert dag.plan(str(repo)) == []  # nothing changed: nothing to run
    (repo / "params.yaml").write_text("n: 7\nlabel: other\n")
    assert [s.name for s in dag.plan(str(repo))] == ["d"]  # only d reads `label`
    (repo / "params.yaml").write_text("n: 8\nlabel: other\n")
    assert [s.name for s in dag.plan(str(repo))] == ["a", "b", "c", "d"]  # a changed: all downstream runs
    with pytest.raises(ValueError, match="no stage 'e'"):
        dag.plan(str(repo), ["e"])


def test_two_slots_overlap_independent_stages_and_record_what_dvc_repro_records(tmp_path):
    serial, sched = make_toy_repo(tmp_path / "serial"), make_toy_repo(tmp_path / "sched")
    assert dvc(serial, "repro").returncode == 0
    res = cluster(sched, "submit", "--backend", "local", "--slots", "2")
    assert res.returncode == 0, res.stdout + res.stderr
    assert_side_by_side_and_recorded_as_serial(serial, sched)
    assert "recorded" in cluster(sched, "status").stdout
    again = cluster(sched, "submit", "--backend", "local")
    assert again.returncode == 0 and "nothing to run" in again.stdout


def test_gpu_slots_give_each_stage_its_own_gpu(tmp_path):
    repo = make_toy_repo(tmp_path / "toy", sleep=2)
    res = cluster(repo, "submit", "--backend", "local", "--gpus", "3,5")
    assert res.returncode == 0, res.stdout + res.stderr
    assert {(repo / "times" / f"{s}.gpu").read_text().strip() for s in "bc"} == {"3", "5"}  # side by side: one GPU each


def test_a_failed_stage_stops_its_downstream_and_is_not_recorded(tmp_path):
    repo = make_toy_repo(tmp_path / "toy", sleep=0, fail="c")
    res = cluster(repo, "submit", "--backend", "local", "--slots", "2")
    assert res.returncode == 1 and "FAILED c (exit 3)" in res.stdout, res.stdout + res.stderr
    st = cluster(repo, "status").stdout
    assert "failed (exit 3)" in st and "not finished" in st  # d never started
    lock = locks.load(repo)
    assert set(lock) <= {"a", "b"} and "c" not in lock and "d" not in lock
    # a finished stage whose recording was lost (a killed scheduler): no new run until collect
    run_dir = next((repo / ".cluster").glob("2*"))
    next((run_dir / "recorded").iterdir()).unlink()
    res = cluster(repo, "submit", "--backend", "local")
    assert res.returncode == 1 and "has not recorded them: run `cluster collect` first" in res.stdout, res.stdout
    assert cluster(repo, "collect").returncode == 1  # records it; c still failed
    assert "stages, state in" in cluster(repo, "submit", "--backend", "local").stdout  # collected: a new run may start


@pytest.mark.slow
def test_tiny_embedded_pipeline_on_two_local_slots_equals_serial_repro(serial_tiny, tmp_path):
    """The embedded pipeline (tiny params) through the scheduler with two CPU slots: dvc.lock as a
    serial `dvc repro` wrote it, `dvc status` clean."""
    serial, serial_seconds = serial_tiny
    repo = make_tiny_repo(tmp_path / "sched")
    start = time.perf_counter()
    res = cluster(repo, "submit", TARGET, "--backend", "local", "--slots", "2", timeout=1800)
    seconds = time.perf_counter() - start
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-4000:]
    print(f"tiny embedded pipeline: serial dvc repro {serial_seconds:.0f} s, two local slots {seconds:.0f} s")
    assert locks.differences(serial, repo) == []
    status = dvc(repo, "status", TARGET)
    assert status.returncode == 0 and "changed" not in status.stdout, status.stdout


def test_lock_comparison_lets_only_timings_differ_in_a_progress_log(tmp_path):
    """A scheduled run that was requeued writes the same train.log as the serial run but for
    speed and clock fields, its resume notice and the steps it repeated after its checkpoint."""
    serial, resumed, other = tmp_path / "a" / "train.log", tmp_path / "b" / "train.log", tmp_path / "c" / "train.log"
    for p in (serial, resumed, other):
        p.parent.mkdir()
    serial.write_text("phase1 step 1/3 | loss 6.0000 | lr 1.00e-03 | 500 tok/s | padding 5% | 0m01s elapsed, eta 0m02s\n"
                      "phase1 step 3/3 | loss 5.0000 | lr 0.00e+00 | 510 tok/s | padding 5% | 0m03s elapsed, eta 0m00s\n")
    resumed.write_text("phase1 step 1/3 | loss 6.0000 | lr 1.00e-03 | 9,100 tok/s | padding 5% | 0m00s elapsed, eta 0m00s\n"
                       "phase1: resuming from checkpoints/phase1/step-00000001 (step 1/3)\n"
                       "phase1 step 3/3 | loss 5.0000 | lr 0.00e+00 | 8,000 tok/s | padding 5% | 0m00s elapsed, eta 0m00s\n")
    other.write_text(serial.read_text().replace("loss 5.0000", "loss 5.0001"))
    assert locks._same_but_timing(serial, resumed) and not locks._same_but_timing(serial, other)


def test_a_log_that_starts_at_its_resume_matches_the_serial_log_it_is_part_of(tmp_path):
    """SLURM's requeued job removes the stage's outs, so its train.log starts at the resume notice."""
    serial, resumed, wrong = tmp_path / "a" / "train.log", tmp_path / "b" / "train.log", tmp_path / "c" / "train.log"
    for p in (serial, resumed, wrong):
        p.parent.mkdir()
    serial.write_text("phase1 step 1/3 | loss 6.0000 | lr 1.00e-03 | 500 tok/s | padding 5% | 0m01s elapsed, eta 0m02s\n"
                      "phase1 step 3/3 | loss 5.0000 | lr 0.00e+00 | 510 tok/s | padding 5% | 0m03s elapsed, eta 0m00s\n")
    resumed.write_text("phase1: resuming from checkpoints/phase1/step-00000001 (step 1/3)\n"
                       "phase1 step 3/3 | loss 5.0000 | lr 0.00e+00 | 8,000 tok/s | padding 5% | 0m00s elapsed, eta 0m00s\n")
    wrong.write_text(resumed.read_text().replace("loss 5.0000", "loss 4.9000"))
    assert locks._same_but_timing(serial, resumed) and locks._same_but_timing(resumed, serial)
    assert not locks._same_but_timing(serial, wrong)
