"""Site harmonisation (ComBat) and confound regression fitted inside the fold.

Site and confound values travel as the last columns of ``X`` so that the
step is an ordinary scikit-learn transformer: it is cloned, fitted on the
training rows of each fold and applied to the held-out rows with the
training estimates, like imputation and scaling. Nothing about held-out
participants reaches the estimates.

The ComBat model is that of Johnson et al. (2007, Biostatistics 8:118) as
adapted to neuroimaging by Fortin et al. (2018, NeuroImage 167:104): per
feature ``x = alpha + C beta + gamma_site + delta_site * eps``, with
empirical-Bayes shrinkage of the site location ``gamma`` and scale
``delta`` across features.
"""

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data


def _site_design(codes, levels):
    return (codes[:, None] == levels[None, :]).astype(float)


def _inverse_gamma_prior(delta_hat):
    """Method-of-moments shape and scale of the prior of site variances."""
    mean, var = delta_hat.mean(), delta_hat.var(ddof=1)
    return (2 * var + mean**2) / var, (mean * var + mean**3) / var


def _empirical_bayes(z, gamma_hat, delta_hat, n, tol=1e-4, max_iter=1000):
    """Posterior site location and scale of one site (all features at once)."""
    gamma_bar, tau2 = gamma_hat.mean(), gamma_hat.var(ddof=1)
    a, b = _inverse_gamma_prior(delta_hat)
    gamma, delta = gamma_hat, delta_hat
    for _ in range(max_iter):
        new_gamma = (tau2 * n * gamma_hat + delta * gamma_bar) / (tau2 * n + delta)
        sum2 = ((z - new_gamma) ** 2).sum(axis=0)
        new_delta = (0.5 * sum2 + b) / (n / 2 + a - 1)
        change = max(
            np.max(np.abs(new_gamma - gamma) / np.abs(gamma)),
            np.max(np.abs(new_delta - delta) / delta),
        )
        gamma, delta = new_gamma, new_delta
        if change < tol:
            break
    return gamma, delta


class Deconfounder(TransformerMixin, BaseEstimator):
    """Remove site effects (ComBat) and confounds, estimated on training rows.

    The last ``int(site) + n_confounds`` columns of ``X`` are nuisance
    columns: first the site code (any number per site) when ``site``, then
    the confounds (e.g. age, sex as 0/1). They are dropped from the output.
    The ``n_passthrough`` columns before them (arm indicators, clinical
    covariates) are returned unchanged after the harmonised features.

    Parameters
    ----------
    n_confounds : int
        Trailing confound columns. Their linear effect is estimated jointly
        with the site means and removed (``preserve_confounds=False``) or
        kept while site effects are removed (``True``, ComBat's biological
        covariates).
    site : bool
        Whether the column before the confounds is a site code to harmonise.
    empirical_bayes : bool
        Shrink per-site location and scale across features (ComBat); else the
        plain per-site location/scale estimates are used.
    mean_only : bool
        Adjust only site locations, not scales.
    preserve_confounds : bool
        Keep the confounds' effects in the output.
    n_passthrough : int
        Columns before the nuisance columns left as they are.

    Attributes
    ----------
    levels_ : ndarray
        Sites seen at fit. A held-out participant from a site absent from the
        training rows gets no site adjustment (its location and scale are
        taken as the pooled ones).
    grand_mean_, var_pooled_, beta_, gamma_, delta_ : ndarray
        Fitted ComBat terms (per feature; ``gamma_``/``delta_`` per site).

    Notes
    -----
    With ``site=False`` this is confound regression: each feature minus its
    least-squares fit on the (training-centred) confounds.
    """

    def __init__(
        self,
        n_confounds=0,
        site=True,
        empirical_bayes=True,
        mean_only=False,
        preserve_confounds=False,
        n_passthrough=0,
    ):
        self.n_confounds = n_confounds
        self.site = site
        self.empirical_bayes = empirical_bayes
        self.mean_only = mean_only
        self.preserve_confounds = preserve_confounds
        self.n_passthrough = n_passthrough

    def _split(self, X):
        n_nuisance = int(self.site) + self.n_confounds
        end = X.shape[1] - n_nuisance
        features = X[:, : end - self.n_passthrough]
        codes = X[:, -n_nuisance] if self.site else np.zeros(len(X))
        confounds = X[:, X.shape[1] - self.n_confounds :]
        return features, codes, confounds, X[:, end - self.n_passthrough : end]

    def fit(self, X, y=None):
        """Estimate site and confound effects on the training rows.

        Parameters
        ----------
        X : array-like, shape (n_samples, n_features + n_nuisance)
            Features, then the site code, then the confounds (no NaN).
        y : None
            Ignored.

        Returns
        -------
        self : Deconfounder
        """
        X = validate_data(self, X, ensure_min_features=int(self.site) + 1)
        n_nuisance = int(self.site) + self.n_confounds + self.n_passthrough
        if X.shape[1] <= n_nuisance:
            raise ValueError(
                f"X has {X.shape[1]} columns; {n_nuisance} are nuisance columns "
                "and at least one feature is needed"
            )
        features, codes, confounds, _ = self._split(X)
        self.levels_ = np.unique(codes)
        self.confound_mean_ = confounds.mean(axis=0)
        sites = _site_design(codes, self.levels_)
        design = np.hstack([sites, confounds - self.confound_mean_])
        coef = np.linalg.lstsq(design, features, rcond=None)[0]
        n_levels = len(self.levels_)
        self.beta_ = coef[n_levels:]
        self.grand_mean_ = sites.mean(axis=0) @ coef[:n_levels]
        self.var_pooled_ = ((features - design @ coef) ** 2).mean(axis=0)
        self.var_pooled_[self.var_pooled_ == 0] = 1.0  # constant feature
        z = self._standardize(features, confounds)
        self.gamma_ = np.zeros((n_levels, z.shape[1]))
        self.delta_ = np.ones((n_levels, z.shape[1]))
        if not self.site:
            return self
        shrink = self.empirical_bayes and z.shape[1] > 2  # priors across features
        for k, level in enumerate(self.levels_):
            in_site = z[codes == level]
            gamma_hat = in_site.mean(axis=0)
            if self.mean_only or len(in_site) < 2:
                delta_hat = np.ones_like(gamma_hat)
            else:
                delta_hat = in_site.var(axis=0, ddof=1)
                delta_hat[delta_hat == 0] = 1.0
            if shrink and self.mean_only:
                # sva's ComBat convention for mean-only shrinkage (n = delta = 1)
                tau2 = gamma_hat.var(ddof=1)
                gamma_hat = (tau2 * gamma_hat + gamma_hat.mean()) / (tau2 + 1)
            elif shrink:
                gamma_hat, delta_hat = _empirical_bayes(
                    in_site, gamma_hat, delta_hat, len(in_site)
                )
            self.gamma_[k], self.delta_[k] = gamma_hat, delta_hat
        return self

    def _standardize(self, features, confounds):
        fitted = self.grand_mean_ + (confounds - self.confound_mean_) @ self.beta_
        return (features - fitted) / np.sqrt(self.var_pooled_)

    def transform(self, X):
        """Harmonise features with the training estimates; drop nuisance columns.

        Returns
        -------
        features : ndarray, shape (n_samples, n_features)
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False)
        features, codes, confounds, passthrough = self._split(X)
        z = self._standardize(features, confounds)
        known = np.isin(codes, self.levels_)
        index = np.searchsorted(self.levels_, codes[known])
        z[known] = (z[known] - self.gamma_[index]) / np.sqrt(self.delta_[index])
        out = z * np.sqrt(self.var_pooled_) + self.grand_mean_
        if self.preserve_confounds:
            out += (confounds - self.confound_mean_) @ self.beta_
        return np.hstack([out, passthrough])

    def get_feature_names_out(self, input_features=None):
        """Names of the harmonised features (nuisance columns dropped)."""
        check_is_fitted(self)
        n_out = self.n_features_in_ - int(self.site) - self.n_confounds
        if input_features is None:
            return np.array([f"x{i}" for i in range(n_out)], dtype=object)
        return np.asarray(input_features, dtype=object)[:n_out]
