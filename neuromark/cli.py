"""Command-line interface: a thin shell over :mod:`neuromark.pipeline`.

Domain errors (:class:`neuromark.NeuromarkError`) are printed as one line,
without a traceback, and exit with status 2.
"""

import argparse
import errno
import os
import sys
from pathlib import Path

from . import __version__
from .exceptions import NeuromarkError, RunTerminated
from .utils._logging import set_log_level

DEMO_PARTICIPANTS = 16  # four per arm of the realistic preset
_FILE_SYSTEM_ERRORS = {
    errno.ENOSPC,
    errno.EDQUOT,
    errno.EROFS,
    errno.EACCES,
    errno.EPERM,
    errno.ENOENT,
}


# simulate's options are simulate_study's keyword arguments; an option not
# given is not passed, so the defaults live in one place (simulate_study)
SIMULATE_OPTIONS = {
    "--participants": dict(
        dest="n_participants", type=int, help="number of participants (12)"
    ),
    "--seed": dict(type=int, help="random seed (42)"),
    "--effect-size": dict(
        type=float,
        help="scale of responders' pre->post changes, 0 for a null study (1)",
    ),
    "--baseline-effect": dict(
        type=float,
        help="scale of responders' prognostic baseline differences "
        "(0.5 idealised, 1 realistic)",
    ),
    "--preset": dict(
        choices=["idealised", "realistic"],
        help="generative model: idealised (large clean effects, for unit tests; "
        "the default) or realistic (effects of the size trials report, sham "
        "arm, site effects, artefacts; see neuromark.simulation.presets)",
    ),
    "--interventions": dict(
        nargs="+",
        help="treatment arms (TENS NIBS mindfulness, plus sham when realistic)",
    ),
    "--modalities": dict(nargs="+", choices=["eeg", "fmri"], help="(both)"),
    "--eeg-duration": dict(type=float, help="EEG length in s (120)"),
    "--eeg-sfreq": dict(type=float, help="EEG sampling rate in Hz (250)"),
    "--fmri-volumes": dict(type=int, help="BOLD volumes per run (120)"),
    "--fmri-resolution": dict(type=float, help="BOLD voxel size in mm (3)"),
    "--missing-rate": dict(
        type=float, help="probability that a recording is left out (0)"
    ),
    "--n-jobs": dict(type=int, help="parallel participants (1)"),
    "--overwrite": dict(action="store_true", help="replace OUTPUT"),
}


DEMO_SIMULATE_OPTIONS = ("--eeg-duration", "--fmri-volumes")


def _add_simulate(sub):
    parser = sub.add_parser(
        "simulate",
        help="write a simulated BIDS pain-trial study",
        description="Write a simulated BIDS pain-trial study with planted ground "
        "truth (neuromark.simulation.simulate_study; its defaults in parentheses).",
    )
    parser.add_argument("output", type=Path, help="folder to create")
    for flag, options in SIMULATE_OPTIONS.items():
        parser.add_argument(flag, default=argparse.SUPPRESS, **options)


def _add_run(sub):
    parser = sub.add_parser("run", help="run the pipeline described by a YAML config")
    parser.add_argument(
        "config", type=Path, help="YAML config (see 'neuromark config')"
    )
    parser.add_argument("--steps", nargs="+", help="steps to run (default: all)")
    parser.add_argument("--n-jobs", type=int, help="override the config's n_jobs")
    parser.add_argument(
        "--participant",
        help="run one participant up to their features (a job-array task); "
        "a later run of the whole study reuses the cached results",
    )
    parser.add_argument(
        "--on-error",
        choices=["continue", "abort"],
        help="override the config's on_error",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="print the plan and the batch script a cluster would run; write "
        "and submit nothing",
    )


def _add_demo(sub):
    parser = sub.add_parser(
        "demo",
        help="simulate a realistic study (small effects, sham arm, artefacts) and "
        "run the default pipeline on it",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=Path("demo_output"),
        help="folder for the simulated study and the results",
    )
    parser.add_argument("--participants", type=int, default=DEMO_PARTICIPANTS)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--n-jobs", type=int, default=2)
    # shorter recordings give a quicker demo (below 82 s, EEG runs without ICA)
    for flag in DEMO_SIMULATE_OPTIONS:
        parser.add_argument(flag, default=argparse.SUPPRESS, **SIMULATE_OPTIONS[flag])


def _add_config(sub):
    parser = sub.add_parser(
        "config", help="print every setting with its default, or validate a config"
    )
    parser.add_argument(
        "config",
        type=Path,
        nargs="?",
        help="YAML config to validate and print with defaults filled in",
    )


def _add_summary(sub):
    parser = sub.add_parser(
        "summary", help="tabulate who has which recording in a study"
    )
    parser.add_argument("bids_root", type=Path)
    parser.add_argument("--task", default="rest")
    parser.add_argument(
        "--sessions", nargs=2, default=["pre", "post"], metavar=("PRE", "POST")
    )


def _add_predict(sub):
    parser = sub.add_parser(
        "predict", help="apply a saved model to participants' features"
    )
    parser.add_argument("model", type=Path, help="a prediction/models/*.skops file")
    parser.add_argument("features", type=Path, help="a features_wide.tsv table")
    parser.add_argument("--output", type=Path, help="write predictions to this TSV")
    parser.add_argument(
        "--participants",
        type=Path,
        help="a participants.tsv whose columns (intervention, site, clinical "
        "covariates) are joined to the features; pooled models need intervention",
    )
    parser.add_argument(
        "--max-missing",
        type=float,
        default=0.2,
        help="largest fraction of the model's features a participant may lack; "
        "fewer are imputed (with a warning), more leave the participant unscored",
    )


def build_parser():
    """Return the ``neuromark`` argument parser."""
    parser = argparse.ArgumentParser(
        prog="neuromark",
        description="EEG and fMRI neuromarkers of non-drug chronic-pain "
        "treatments. Also a BIDS App: neuromark BIDS_DIR OUTPUT_DIR "
        "participant|group [--participant-label ...] (see 'neuromark BIDS_DIR "
        "OUTPUT_DIR group --help').",
    )
    parser.add_argument(
        "--version", action="version", version=f"neuromark {__version__}"
    )
    level = parser.add_mutually_exclusive_group()
    level.add_argument("-v", "--verbose", action="store_true", help="debug messages")
    level.add_argument(
        "-q", "--quiet", action="store_true", help="warnings and errors only"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for add in (
        _add_simulate,
        _add_run,
        _add_demo,
        _add_config,
        _add_summary,
        _add_predict,
    ):
        add(sub)
    return parser


ANALYSIS_LEVELS = ("participant", "group")


def build_bids_app_parser():
    """Return the parser of the BIDS-App call ``neuromark BIDS_DIR OUTPUT_DIR LEVEL``.

    Returns
    -------
    parser : argparse.ArgumentParser
    """
    parser = argparse.ArgumentParser(
        prog="neuromark",
        description="BIDS-App interface: 'participant' computes the features "
        "of the listed participants (each like 'run --participant'); 'group' "
        "runs the whole study, reading their cached results, with statistics, "
        "prediction and the report.",
    )
    parser.add_argument("bids_dir", type=Path, help="the BIDS dataset")
    parser.add_argument("output_dir", type=Path, help="where the derivatives go")
    parser.add_argument("analysis_level", choices=ANALYSIS_LEVELS)
    parser.add_argument(
        "--participant-label",
        "--participant_label",
        nargs="+",
        metavar="LABEL",
        help="participants to process at the participant level, with or "
        "without 'sub-' (default: all in participants.tsv)",
    )
    parser.add_argument(
        "--config",
        type=Path,
        help="YAML config for every other setting (its bids_root and "
        "output_dir are replaced by BIDS_DIR and OUTPUT_DIR)",
    )
    parser.add_argument("--n-jobs", type=int, help="override the config's n_jobs")
    level = parser.add_mutually_exclusive_group()
    level.add_argument("-v", "--verbose", action="store_true", help="debug messages")
    level.add_argument(
        "-q", "--quiet", action="store_true", help="warnings and errors only"
    )
    return parser


def _is_bids_app_call(argv):
    """Whether ``argv`` is ``BIDS_DIR OUTPUT_DIR participant|group ...``."""
    first = next((a for a in argv if not a.startswith("-")), None)
    return (
        first is not None
        and first not in COMMANDS
        and any(a in ANALYSIS_LEVELS for a in argv)
    )


def _bids_app(args):
    from .pipeline import make_config, run_pipeline
    from .pipeline.config import read_config_file

    settings, base_dir = read_config_file(args.config) if args.config else ({}, None)
    settings |= {
        "bids_root": args.bids_dir.expanduser().resolve(),
        "output_dir": args.output_dir.expanduser().resolve(),
    }
    if args.n_jobs is not None:
        settings["n_jobs"] = args.n_jobs
    config = make_config(
        str(args.config or "BIDS-App arguments"), base_dir=base_dir, **settings
    )
    if args.analysis_level == "group":
        return _report_run(run_pipeline(config))
    labels = args.participant_label or _all_participants(config)
    return max(_report_run(run_pipeline(config, participant=label)) for label in labels)


def _all_participants(config):
    from .pipeline.steps import discover_configured

    return list(discover_configured(config).participants["participant_id"])


def _simulate(args):
    from .simulation import simulate_study

    options = {
        key: value
        for key, value in vars(args).items()
        if key not in ("command", "output", "verbose", "quiet")
    }
    root = simulate_study(args.output, **options)
    print(f"Simulated study: {root}")


def _report_run(result):
    summary, errors = result["summary"], result["errors"]
    print(summary.to_string(index=False))
    print(
        f"\n{len(errors)} problem(s) listed in "
        f"{result['output_dir'] / 'logs' / 'errors.tsv'}"
    )
    for row in errors.itertuples():
        print(
            f"  excluded: {row.participant_id} {row.session} {row.modality} "
            f"({row.stage}): {row.problem}"
        )
    print(f"Outputs: {result['output_dir']}")
    print(f"Report: {result['report']}")
    if result["failed_steps"]:
        failed = "; ".join(f"{k}: {v}" for k, v in result["failed_steps"].items())
        print(
            f"neuromark: error: nothing usable came out of this run ({failed} "
            "succeeded); see logs/errors.tsv",
            file=sys.stderr,
        )
        return 1
    return 0


def _run(args):
    from .pipeline import load_config, run_pipeline

    config = load_config(args.config)
    overrides = {
        k: v
        for k, v in (("n_jobs", args.n_jobs), ("on_error", args.on_error))
        if v is not None
    }
    if overrides:
        from .pipeline import make_config

        config = make_config(str(args.config), **(config.to_dict() | overrides))
    if args.dry_run:
        return _dry_run(config, args)
    return _report_run(
        run_pipeline(config, steps=args.steps, participant=args.participant)
    )


def _dry_run(config, args):
    from .pipeline.plan import dask_job_script, describe_plan, slurm_array_script
    from .pipeline.run import plan_steps

    steps = plan_steps(args.steps, args.participant)
    text, participants = describe_plan(config, steps)
    print(text)
    dask = config.engine.dask
    if config.engine.backend == "dask" and dask.cluster in ("slurm", "pbs"):
        print(f"# the {dask.cluster.upper()} job script of each of the {dask.jobs} ")
        print("# Dask worker jobs this run would submit (nothing was submitted):")
        print(dask_job_script(config))
    else:
        print("# or on a SLURM cluster without Dask: one array task per participant")
        print(slurm_array_script(args.config, participants))
    return 0


def _demo(args):
    from .pipeline import make_config, run_pipeline
    from .simulation import simulate_study

    output = args.output.expanduser().resolve()
    bids_root = output / "bids"
    names = [flag[2:].replace("-", "_") for flag in DEMO_SIMULATE_OPTIONS]
    sizes = {name: getattr(args, name) for name in names if hasattr(args, name)}
    if not (bids_root / "participants.tsv").is_file():
        simulate_study(
            bids_root,
            n_participants=args.participants,
            seed=args.seed,
            preset="realistic",
            missing_rate=0.05,
            n_jobs=args.n_jobs,
            **sizes,
        )
    config = make_config(
        "demo",
        bids_root=bids_root,
        output_dir=output / "derivatives",
        n_jobs=args.n_jobs,
        random_state=args.seed,
    )
    result = run_pipeline(config)
    print(f"Simulated study (with ground truth): {bids_root}")
    print(f"Provenance: {result['output_dir'] / 'provenance.json'}")
    return _report_run(result)


def _config(args):
    from .pipeline import describe_settings, load_config

    if args.config is None:
        print(describe_settings(), end="")
        return
    import yaml

    config = load_config(args.config)
    print(f"# {args.config}: valid (sha256 {config.hash()[:12]})")
    print(yaml.safe_dump(config.to_dict(), sort_keys=False), end="")


def _summary(args):
    from .io import discover_study

    study = discover_study(
        args.bids_root, task=args.task, sessions=tuple(args.sessions)
    )
    print(study.summary().to_string(index=False))
    if len(study.problems):
        print("\nProblems:")
        print(study.problems.to_string(index=False))


def _predict(args):

    from .predict.persist import apply_model, load_model, read_feature_table
    from .utils._files import write_tsv

    model, metadata = load_model(args.model)
    wide = read_feature_table(args.features)
    if args.participants is not None:
        extra = read_feature_table(args.participants)  # any TSV with participant_id
        extra = extra[[c for c in extra if c == "participant_id" or c not in wide]]
        wide = wide.merge(extra, on="participant_id", how="left")
    predictions = apply_model(model, metadata, wide, max_missing=args.max_missing)
    if args.output:
        write_tsv(args.output, predictions, index=False)
    print(predictions.to_string(index=False))


COMMANDS = {
    "simulate": _simulate,
    "run": _run,
    "demo": _demo,
    "config": _config,
    "summary": _summary,
    "predict": _predict,
}


def main(argv=None):
    """Entry point of the ``neuromark`` command.

    Parameters
    ----------
    argv : list of str | None
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    status : int
        0 on success; 1 when a run produced nothing usable (every recording
        of a modality failed, or none was found); 2 on a neuromark error or
        an output folder that cannot be written (one line, no traceback).
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    if _is_bids_app_call(argv):
        args, command = build_bids_app_parser().parse_args(argv), _bids_app
    else:
        args = build_parser().parse_args(argv)
        command = COMMANDS[args.command]
    set_log_level("DEBUG" if args.verbose else "WARNING" if args.quiet else "INFO")
    try:
        status = command(args)
    except BrokenPipeError:  # `neuromark summary | head`: the reader has left
        # send what is still buffered nowhere, so closing stdout cannot fail
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except NeuromarkError as err:
        print(f"neuromark: error: {err}", file=sys.stderr)
        return 2
    except RunTerminated as signal_name:  # a scheduler ended the job
        print(
            f"neuromark: terminated by {signal_name}; workers stopped, finished "
            "outputs kept. Run the same command again to resume (cached units "
            "are reused).",
            file=sys.stderr,
        )
        return 143
    except OSError as err:  # disk full, read-only folder, missing file
        if err.errno not in _FILE_SYSTEM_ERRORS:
            raise
        where = f"{err.filename}: " if err.filename else ""
        print(f"neuromark: error: {where}{err.strerror}", file=sys.stderr)
        return 2
    return status or 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
