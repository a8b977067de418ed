import numpy as np
import pytest
from scipy.signal import welch
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from neuromark.eeg.estimators import BandPower

SFREQ = 250.0


def _expected_failures(estimator):
    return {
        "check_fit_idempotent": "the check's 2-sample segments hold no frequency bin "
        "inside the bands, which BandPower refuses with a clear error",
    }


@parametrize_with_checks(
    [BandPower(sfreq=4.0, bands={"low": (0.0, 1.0), "high": (1.0, 2.0)}, scaling=1.0)],
    expected_failed_checks=_expected_failures,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_band_power_equals_scipy_welch_per_segment():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((6, 3, 1000)) * 1e-5
    out = BandPower(sfreq=SFREQ).fit_transform(X)
    freqs, psd = welch(
        X * 1e6, fs=SFREQ, nperseg=500, noverlap=250, window="hann", detrend="constant"
    )
    alpha = (freqs >= 8) & (freqs < 13)
    expected = psd[..., alpha].sum(axis=-1) * (freqs[1] - freqs[0])
    # default bands: delta, theta, alpha, beta, gamma -> alpha is column 2 per channel
    np.testing.assert_allclose(out.reshape(6, 3, 5)[..., 2], expected, rtol=1e-10)


def test_kinds_and_feature_names():
    rng = np.random.default_rng(1)
    times = np.arange(1000) / SFREQ
    X = (10 * np.sin(2 * np.pi * 10 * times) + rng.standard_normal((4, 2, 1000))) * 1e-6
    relative = BandPower(sfreq=SFREQ, kind="relative").fit_transform(X).reshape(4, 2, 5)
    assert relative[..., 2].min() > 0.8 and relative.sum(axis=-1).max() <= 1 + 1e-9
    absolute = BandPower(sfreq=SFREQ).fit_transform(X)
    np.testing.assert_allclose(
        BandPower(sfreq=SFREQ, kind="log").fit_transform(X), np.log10(absolute)
    )
    np.testing.assert_allclose(absolute.reshape(4, 2, 5)[..., 2], 50.0, rtol=0.1)
    names = BandPower(sfreq=SFREQ).fit(X).get_feature_names_out()
    assert (
        list(names[:3]) == ["ch0_delta", "ch0_theta", "ch0_alpha"] and len(names) == 10
    )
    with pytest.raises(ValueError, match="Allowed values are 'absolute'"):
        BandPower(kind="dB").fit(X)
    with pytest.raises(ValueError, match="reaches 45.0 Hz"):
        BandPower(sfreq=60.0).fit(X)


def test_inside_a_cross_validated_pipeline():
    rng = np.random.default_rng(2)
    times = np.arange(500) / SFREQ
    y = np.repeat([0, 1], 20)
    amplitude = np.where(y == 1, 8.0, 3.0)[:, None, None]
    X = (
        amplitude * np.sin(2 * np.pi * 10 * times + rng.uniform(0, 6, (40, 1, 1)))
        + 5 * rng.standard_normal((40, 2, 500))
    ) * 1e-6
    model = make_pipeline(
        BandPower(sfreq=SFREQ, kind="log"), StandardScaler(), LogisticRegression()
    )
    assert cross_val_score(model, X, y, cv=5).mean() > 0.9
