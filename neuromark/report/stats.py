"""Report sections of the pre/post statistics."""

from html import escape as html_escape

import pandas as pd


def _top(results, q, columns, source, top=8):
    """Show the ``top`` rows of each intervention by ``q``, and what is left out."""
    from .html import table_html

    ordered = results.sort_values(["intervention", q])
    shown = ordered.groupby("intervention").head(top)[columns]
    return (
        f"<p class='note'>Per intervention, the {top} rows with the smallest "
        f"{q}.</p>" + table_html(shown, total=len(results), source=source)
    )


def stats_sections(tables, *, control=None, top=8):
    """Treatment effects against control, then descriptive pre/post tables.

    Parameters
    ----------
    tables : dict of str to pandas.DataFrame
        ``stats_prepost`` and optionally ``stats_treatment``,
        ``stats_responders`` and ``stats_reliability``.
    control : str | None
        The study's control arm (None: the study has none).
    top : int
        Rows per intervention of the exploratory tables.

    Returns
    -------
    sections : list of (str, str)
    """
    from .html import table_html

    treatment = tables.get("stats_treatment")
    if treatment is not None and not treatment.empty:
        confirmatory = treatment[treatment["family"] == "confirmatory"]
        exploratory = treatment[
            (treatment["family"] == "exploratory") & treatment["significant"]
        ]
        columns = [
            "intervention",
            "control",
            "modality",
            "feature",
            "location",
            "n",
            "n_control",
            "estimate",
            "ci_low",
            "ci_high",
            "d",
            "p",
            "q",
            "significant",
        ]
        html = (
            "<p class='note'>Confirmatory test of each active arm against "
            f"<b>{html_escape(str(control))}</b>: ANCOVA post ~ pre + arm (+ site), "
            "the adjusted difference at post with its 95 % CI and d (estimate / "
            "pooled baseline SD); q: Benjamini-Hochberg within the confirmatory "
            "family (stats.confirmatory). Exploratory features are shown only when "
            "the two-stage FDR over marker groups (Benjamini & Bogomolov 2014) "
            "retains them.</p>"
            + table_html(confirmatory[columns], source="stats_treatment.tsv")
        )
        if len(exploratory):
            html += "<p class='note'>Exploratory, retained:</p>" + table_html(
                exploratory[columns],
                total=len(treatment),
                source="stats_treatment.tsv",
            )
        sections = [("Treatment effects against control (confirmatory)", html)]
    else:
        sections = [
            (
                "Treatment effects against control (confirmatory)",
                "<p class='lead'>"
                + (
                    "This study has no control arm (stats.control_arms): the "
                    "pre/post changes below are descriptive and cannot separate "
                    "the treatment from time, placebo, retest or regression to the "
                    "mean."
                    if control is None
                    else f"The control arm {html_escape(str(control))} or every "
                    "active arm has fewer than two participants with both "
                    "sessions: no treatment effect could be tested."
                )
                + "</p>",
            )
        ]
    note = (
        "<p class='note'>Descriptive: paired change post − pre within each arm "
        "(time, placebo, retest and regression to the mean included) with t-based "
        "95 % CI, d_z and d_av (mean change over the mean of the pre and post SDs, "
        "comparable with between-group effects) with exact noncentral-t CIs, the "
        "pre-post correlation r, paired t-test and sign-flip permutation p; q: "
        "Benjamini-Hochberg within each intervention. Small arms give wide "
        "intervals: read effect sizes with their CIs.</p>"
    )
    prepost = _top(
        tables["stats_prepost"],
        "q_t",
        [
            "intervention",
            "family",
            "modality",
            "feature",
            "location",
            "n",
            "mean_change",
            "ci_low",
            "ci_high",
            "d_z",
            "d_av",
            "d_av_ci_low",
            "d_av_ci_high",
            "r_prepost",
            "p_t",
            "q_t",
        ],
        "stats_prepost.tsv",
        top,
    )
    sections.append(("Pre/post change per intervention (descriptive)", note + prepost))
    if "stats_responders" in tables:
        responders = _top(
            tables["stats_responders"],
            "q_welch",
            [
                "intervention",
                "modality",
                "feature",
                "location",
                "n_a",
                "n_b",
                "difference",
                "hedges_g",
                "p_welch",
                "p_permutation",
                "q_welch",
            ],
            "stats_responders.tsv",
            top,
        )
        sections.append(
            (
                "Responders versus non-responders (change)",
                "<p class='note'>a: responders, b: non-responders; Welch t-test "
                "and label-permutation p.</p>" + responders,
            )
        )
    if "stats_reliability" in tables:
        icc = tables["stats_reliability"]
        shown = icc[icc["family"] == "confirmatory"]
        rest = icc[icc["family"] != "confirmatory"].sort_values(
            "icc_2_1", ascending=False
        )
        columns = [
            "family",
            "modality",
            "feature",
            "location",
            "n",
            "icc_2_1",
            "icc_2_1_ci_low",
            "icc_2_1_ci_high",
            "icc_3_1",
        ]
        sections.append(
            (
                "Test-retest reliability (control arms)",
                "<p class='note'>ICC(2,1), two-way random, absolute agreement (Koo "
                "& Li 2016), with its F-based 95 % CI (McGraw & Wong 1996); every "
                "confirmatory feature, then the most reliable others. ICC(3,1) "
                "(consistency) for comparison.</p>"
                + table_html(
                    pd.concat([shown, rest.head(top)])[columns],
                    total=len(icc),
                    source="stats_reliability.tsv",
                ),
            )
        )
    return sections


def _in_fold_steps(settings):
    """Describe the data-dependent steps fitted inside each training fold."""
    steps = ["median imputation", "standardisation"]
    if settings is not None and settings.fmri_connectivity == "tangent":
        steps.append("tangent-space projection of baseline fMRI edges")
    if settings is not None and settings.harmonize_site:
        steps.append("ComBat site harmonisation")
    if settings is not None and settings.confounds:
        steps.append(f"regression of {', '.join(settings.confounds)}")
    return ", ".join(steps)


def prediction_sections(metrics, oof=None, null=None, importance=None, settings=None):
    """Table of validated classifiers with their baselines, and their figures.

    Parameters
    ----------
    metrics : pandas.DataFrame
        ``prediction/metrics.tsv``.
    oof, null, importance : pandas.DataFrame | None
        Out-of-fold scores, permutation null AUCs and feature importance, for
        the figures.
    settings : PredictSettings | None
        The prediction settings, to name the steps fitted inside the folds.

    Returns
    -------
    sections : list of (str, str)
    """
    from .html import table_html
    from .predict import ROLES, primary_statement

    ok = metrics[metrics["status"] == "ok"]
    if not ok.empty:
        ok = ok.assign(
            pooled_last=ok["scope"] != "pooled", order=ok["role"].map(ROLES)
        ).sort_values(
            ["pooled_last", "scope", "order", "auc"],
            ascending=[True, True, True, False],
        )
    columns = [
        "scope",
        "role",
        "modality",
        "feature_set",
        "markers",
        "question",
        "model",
        "n",
        "n_responders",
        "n_features",
        "auc",
        "auc_ci_low",
        "auc_ci_high",
        "p_permutation",
        "p_fwer",
        "auc_increment",
        "auc_increment_ci_low",
        "auc_increment_ci_high",
        "p_increment",
        "pr_auc",
        "balanced_accuracy",
        "brier",
        "calibration_slope",
        "calibration_intercept",
    ]
    note = (
        f"<p class='lead'>{html_escape(primary_statement(metrics))}</p>"
        "<p class='note'>Repeated K-fold stratified on arm × label and grouped by "
        "participant; every data-dependent step is fitted inside each training fold "
        f"({html_escape(_in_fold_steps(settings))}). AUC interval: out-of-bag "
        "bootstrap of the out-of-fold predictions (BBC-CV, Tsamardinos et al. "
        "2018); it covers the AUC, on new participants, of the model refitted on "
        "all participants of the scope. p_permutation: labels permuted within "
        "intervention × site blocks, every permuted study validated like the "
        "observed one; p_fwer: family-wise (max-T) across the secondary analyses of "
        "a scope. Pooled models include arm (and site) indicators; the increment is "
        "their AUC over the arm (+ site) baseline, with a paired interval and "
        "permutation p. References: <i>dummy</i> (chance), <i>arm</i>/<i>site</i> "
        "(indicators only) and <i>clinical</i> (baseline pain, age, sex, plus the "
        "indicators). Balanced accuracy at the training prevalence; calibration "
        "slope and intercept per repeat (ideal 1 and 0). Feature sets: baseline = "
        "pre only (prognostic, the default); change = post − pre and both "
        "(opt-in) are taken together with the pain rating that defines the label, "
        "so they measure concurrent association, not prediction (column "
        "<i>question</i>).</p>"
    )
    skipped = metrics[metrics["status"] != "ok"][["scope", "status"]]
    html = note + table_html(
        ok[[c for c in columns if c in ok]],
        total=len(metrics),
        source="prediction/metrics.tsv",
    )
    if ok.empty:
        html = note + "<p class='note'>No design could be validated.</p>"
    elif oof is not None and null is not None:
        from .html import figure_html
        from .predict import plot_prediction

        figure = plot_prediction(metrics, oof, null)
        if figure is not None:
            html += figure_html(
                figure,
                "Pooled: ROC curves of the primary analysis, the best secondary "
                "analysis of other feature sets and the clinical baseline with "
                "95 % bootstrap bands; calibration of out-of-fold risks; "
                "permutation null of the primary analysis.",
            )
        if importance is not None:
            from .predict import plot_importance

            figure = plot_importance(metrics, importance)
            if figure is not None:
                html += figure_html(
                    figure,
                    "Marker families (or features) whose joint permutation on "
                    "held-out folds lowers the AUC of the primary analysis most "
                    "(mean and SD over folds).",
                )
    if len(skipped):
        html += "<p class='note'>Not validated:</p>" + table_html(skipped)
    return [("Response prediction", html)]
