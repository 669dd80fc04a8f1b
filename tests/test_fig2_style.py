"""Fig. 2 reads well: a short title, an unambiguous inset, a visible E_vg line, no invisible promises.

Regression tests for user reports on `draw_fig2`: the title was a raw parameter
dump; the inset's x axis read `k - 0.0250649 eV` with a separate `1e-3` offset
text; the E_vg line hid under a flat band; the vacuum inset promised a green
Gamma_v window far narrower than a pixel.
"""

import re

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
import matplotlib.colors  # noqa: E402
import matplotlib.image  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402

from cnbfluor.figures import draw_fig2, fig2_data  # noqa: E402
from cnbfluor.scenario import build_model, default_scenario  # noqa: E402

OMEGA = 0.025064915718988563  # the vacuum intersection of nu_3 -> nu_1 (studies/scenarios/slow_light.toml)
SLOW = {"dispersion.model": "linear-band", "dispersion.omega_eV": OMEGA, "dispersion.k_eV": OMEGA,
        "dispersion.group_velocity": 1e-4}
UNITS = {"eV": 1.0, "meV": 1e-3, "µeV": 1e-6, "μeV": 1e-6, r"$\mu$eV": 1e-6, "neV": 1e-9}


@pytest.fixture(scope="module", params=["vacuum", "slow-band"])
def drawn(request, tmp_path_factory):
    """(name, model, Fig2Data, Figure, PNG image) of the default vacuum and of a flat v_g = 1e-4 band."""
    sc = default_scenario() if request.param == "vacuum" else default_scenario().replace(SLOW)
    model = build_model(sc)
    data = fig2_data(model)
    path = tmp_path_factory.mktemp("fig2") / f"{request.param}.png"
    fig = draw_fig2(data, path)
    yield request.param, model, data, fig, matplotlib.image.imread(path)
    plt.close(fig)


def _main(fig):
    return fig.axes[0]


def _inset(fig):
    """The zoom inset: the plain Axes among the main axes' children (not the secondary k/omega axes)."""
    (inset,) = [a for a in _main(fig).child_axes if type(a) is Axes]
    return inset


def _level_lines(ax, y):
    """Horizontal lines across the axes (axhline) at height `y`."""
    return [ln for ln in ax.get_lines()
            if len(ln.get_ydata()) == 2 and np.allclose(np.asarray(ln.get_ydata(), float), y, rtol=1e-12, atol=0)
            and np.allclose(np.asarray(ln.get_xdata(), float), [0.0, 1.0])]


def _unit(label):
    """The energy unit named in brackets in an axis label, as eV per unit."""
    match = re.search(r"\[([^\]]+)\]", label)
    assert match and match.group(1) in UNITS, f"no energy unit in brackets in {label!r}"
    return UNITS[match.group(1)]


def test_title_is_short_and_readable(drawn):
    name, model, data, fig, _ = drawn
    title = _main(fig).get_title()
    assert title == data.title
    assert 1 <= len(title.splitlines()) <= 2
    # No raw parameter dump: neither the models' report lines nor `name_sub = value` pairs outside math text.
    assert model.dispersion.describe() not in title and model.momentum.describe() not in title
    plain = re.sub(r"\$[^$]*\$", " ", title)
    assert not re.search(r"[A-Za-z]+_[A-Za-z0-9]+\s*=", plain), title
    assert not re.search(r"\w+ \(\w+ = ", plain), title  # `model (key = value, ...)`
    # The transition nu_3 -> nu_1 and the dispersion in words.
    assert re.search(r"\\nu_\{?3\}?\s*\\to\s*\\nu_\{?1\}?", title), title
    if name == "vacuum":
        assert "vacuum" in title.lower()
    else:
        assert "band" in title.lower() and "v_g" in title and "10^{-4}" in title


def test_inset_axes_name_k0_and_have_no_offset_text(drawn):
    _, _, data, fig, _ = drawn
    inset = _inset(fig)
    k0, dk, w0, dw = data.zoom
    # Drawn (savefig) already: the formatters have set their offset texts.
    assert inset.xaxis.get_offset_text().get_text() == ""
    assert inset.yaxis.get_offset_text().get_text() == ""
    xlabel, ylabel = inset.get_xlabel(), inset.get_ylabel()
    assert "k_0" in xlabel and "E_{vg}" in ylabel
    # The tick values are offsets in the labelled units: the limits are +- the zoom's half-widths.
    assert inset.get_xlim()[1] * _unit(xlabel) == pytest.approx(dk, rel=1e-9)
    assert inset.get_ylim()[1] * _unit(ylabel) == pytest.approx(dw, rel=1e-9)
    # k0 is stated (label or inset title) to better than a hundredth of the zoom's half-width.
    text = xlabel + " " + inset.get_title()
    match = re.search(r"k_0\$?\s*=\s*\$?\s*([0-9.]+)\s*(eV|meV|µeV|μeV|neV)", text)
    assert match, text
    assert abs(float(match.group(1)) * UNITS[match.group(2)] - k0) < 0.01 * dk


def test_level_spacing_line_is_drawn_above_the_dispersion(drawn):
    _, _, data, fig, _ = drawn
    main, inset = _main(fig), _inset(fig)
    branch_x = [np.asarray(kk) for kk, _ in data.branches]
    main_dispersion = [ln for ln in main.get_lines()
                       if any(len(ln.get_xdata()) == len(kk) and np.array_equal(ln.get_xdata(), kk) for kk in branch_x)]
    inset_dispersion = [ln for ln in inset.get_lines()  # the blue curves (markers have no line)
                        if matplotlib.colors.same_color(ln.get_color(), "tab:blue") and ln.get_linestyle() != "None"]
    for ax, level, dispersion_lines in ((main, data.level_spacing, main_dispersion), (inset, 0.0, inset_dispersion)):
        assert dispersion_lines
        (level_line,) = _level_lines(ax, level)
        assert level_line.get_zorder() > max(ln.get_zorder() for ln in dispersion_lines)
        # Distinguishable from the band: not solid, and another colour.
        assert level_line.get_linestyle() not in ("-", "solid")
        assert not any(matplotlib.colors.same_color(level_line.get_color(), ln.get_color()) for ln in dispersion_lines)


def test_inset_does_not_promise_an_invisible_width_window(drawn):
    name, _, data, fig, image = drawn
    inset = _inset(fig)
    # The green Gamma_v window as saved: its height in image pixels.
    green = [p for p in inset.patches if matplotlib.colors.same_color(p.get_facecolor()[:3], "tab:green")]
    assert len(green) <= 1
    scale = image.shape[0] / (fig.get_figheight() * fig.dpi)  # saved pixels per display pixel
    fraction = data.width / (2.0 * data.zoom[3])  # of the inset's y range
    window_px = (green[0].get_window_extent().height if green else 0.0) * scale
    assert window_px == pytest.approx(fraction * inset.get_window_extent().height * scale, rel=1e-6, abs=1e-6)
    legend = inset.get_legend()
    text = inset.get_title() + " " + " ".join(t.get_text() for t in (legend.get_texts() if legend else []))
    if window_px < 1.0:
        assert "green" not in text.lower(), text  # no promise of a coloured window nobody can see ...
        assert "pixel" in text.lower(), text  # ... but say that it is there, narrower than a pixel
    else:
        assert "green" in text.lower(), text
    # The premise of each case: the vacuum window is far below a pixel; the v_g = 1e-4 band's is visible.
    assert (window_px < 1.0) == (name == "vacuum")
