"""The package as users install it: one import name, layers that keep their rules.

- the wheel, installed into a fresh virtual environment outside the source tree,
  gives `cnbfluor.*` and nothing else at the top level, and a working command;
- the physics layers (`dispersion`, `rates`, `optimize`) import nothing from the
  front layer, touch no files and print nothing (read from their source with `ast`);
- `optimize` uses only the public faces of the layers below it.
"""

import ast
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PHYSICS = ("dispersion", "rates", "optimize")
FRONT = ("scenario", "cli", "report", "scan", "figures", "errors", "problem", "optimization", "__main__")
#: Modules whose use means files, processes or people.
IO_MODULES = {"os", "io", "pathlib", "shutil", "tomllib", "json", "pickle", "csv", "tempfile", "subprocess",
              "xarray", "matplotlib", "tqdm", "netCDF4", "h5py", "zarr", "importlib.resources", "logging"}
IO_CALLS = {"open", "print", "input"}
IO_METHODS = {"read_text", "write_text", "read_bytes", "write_bytes", "savez", "save", "load", "loadtxt", "savetxt"}


def _sources(package):
    return sorted((ROOT / package).rglob("*.py"))


def _imports(tree):
    """(module, level, names) of every import in a module."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, 0, ()
        elif isinstance(node, ast.ImportFrom):
            yield node.module or "", node.level, tuple(a.name for a in node.names)


@pytest.mark.parametrize("package", PHYSICS)
def test_physics_layers_import_no_front_layer_and_do_no_io(package):
    problems = []
    for path in _sources(package):
        tree = ast.parse(path.read_text(), str(path))
        rel = path.relative_to(ROOT)
        for module, level, names in _imports(tree):
            top = module.split(".")[0]
            if level == 0 and top == "cnbfluor":
                problems.append(f"{rel}: absolute import of {module} (use relative imports)")
            if level == 0 and top in PHYSICS:
                problems.append(f"{rel}: imports the top-level {module!r}, which is not installed")
            if level >= 2:  # from the cnbfluor package: only the physics layers are allowed
                target = module.split(".")[0] if module else ""
                imported = [target] if target else list(names)
                for name in imported:
                    if name not in PHYSICS:
                        problems.append(f"{rel}: imports the front layer (cnbfluor.{name})")
            if level == 0 and (module in IO_MODULES or top in IO_MODULES):
                problems.append(f"{rel}: imports {module} (files or people belong to the front layer)")
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                fn = node.func
                if isinstance(fn, ast.Name) and fn.id in IO_CALLS:
                    problems.append(f"{rel}:{node.lineno}: calls {fn.id}()")
                if isinstance(fn, ast.Attribute) and fn.attr in IO_METHODS:
                    problems.append(f"{rel}:{node.lineno}: calls .{fn.attr}()")
    assert not problems, "\n".join(problems)


def test_optimize_uses_only_public_faces():
    problems = []
    for path in _sources("optimize"):
        tree = ast.parse(path.read_text(), str(path))
        for module, level, names in _imports(tree):
            parts = module.split(".")
            if level >= 2 and len(parts) > 1:
                problems.append(f"{path.name}: reaches into {module} (import from the package's public face)")
            if level >= 2 and any(n.startswith("_") for n in names):
                problems.append(f"{path.name}: imports private names {names} from {module or '..'}")
    assert not problems, "\n".join(problems)


def test_the_front_layer_is_not_imported_by_the_physics_at_run_time():
    """Importing the physics loads none of the front layer (nor matplotlib or xarray)."""
    code = (
        "import sys, cnbfluor.dispersion, cnbfluor.rates, cnbfluor.optimize\n"
        f"front = [m for m in sys.modules if m.split('.')[:2][-1] in {FRONT!r} and m.startswith('cnbfluor.')]\n"
        "heavy = [m for m in ('matplotlib', 'xarray', 'tqdm') if m in sys.modules]\n"
        "print(front, heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[] []"


def _wheel(tmp_path):
    """Build the wheel of the working tree into tmp_path (no dependencies).

    With this environment's setuptools and wheel (the test extras) first; where
    they are missing, pip builds in its own isolated environment.
    """
    # Built from a copy: setuptools writes build/ and *.egg-info beside the sources.
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "*.egg-info", ".pytest_cache", "__pycache__", "output", "optimize-out", "dist"))
    outputs = []
    for isolation in (["--no-build-isolation"], []):
        out = subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--no-deps", *isolation, "-w", str(tmp_path / "dist"), str(source)],
            capture_output=True, text=True, timeout=600,
        )
        outputs.append(out.stdout + out.stderr)
        if out.returncode == 0:
            break
    assert out.returncode == 0, "\n".join(outputs)
    (wheel,) = (tmp_path / "dist").glob("cnbfluor-*.whl")
    return wheel


def test_wheel_installs_one_namespace_in_a_fresh_environment(tmp_path):
    wheel = _wheel(tmp_path)
    tops = {name.split("/")[0] for name in zipfile.ZipFile(wheel).namelist()}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"cnbfluor"}
    names = zipfile.ZipFile(wheel).namelist()
    assert "cnbfluor/scenario/default.toml" in names and "cnbfluor/rates/average.py" in names

    env_dir = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env_dir)], check=True, timeout=120)
    bindir = env_dir / ("Scripts" if os.name == "nt" else "bin")
    python = bindir / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    # The dependencies (jax, numpy, ...) come from this environment's site-packages,
    # appended as a plain path: its .pth files (our editable install's finder) are
    # not run there, so only the wheel provides cnbfluor.
    Path(purelib, "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", str(wheel)],
        capture_output=True, text=True, timeout=600,
    )
    if install.returncode != 0 and "no such option: --python" in install.stderr:  # pip < 22.3
        install = subprocess.run(
            [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--target", purelib, str(wheel)],
            capture_output=True, text=True, timeout=600,
        )
    assert install.returncode == 0, install.stdout + install.stderr

    outside = tmp_path / "elsewhere"
    outside.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    check = subprocess.run(
        [str(python), "-c",
         "import cnbfluor.rates, cnbfluor, pathlib\n"
         "print(pathlib.Path(cnbfluor.__file__).parent.parent.name)\n"
         "try:\n    import rates\nexcept ImportError:\n    print('no top-level rates')\n"
         "try:\n    import optimize\nexcept ImportError:\n    print('no top-level optimize')\n"],
        capture_output=True, text=True, cwd=outside, env=env, timeout=120,
    )
    assert check.returncode == 0, check.stderr
    assert check.stdout.split() == ["site-packages", "no", "top-level", "rates", "no", "top-level", "optimize"]
    script = bindir / "cnbfluor"
    if not script.exists():  # installed with --target: no console script, use -m
        command = [str(python), "-m", "cnbfluor"]
    else:
        command = [str(script)]
    version = subprocess.run([*command, "--version"], capture_output=True, text=True, cwd=outside, env=env, timeout=120)
    assert version.returncode == 0 and version.stdout.startswith("cnbfluor "), version.stderr
    rate = subprocess.run([*command, "rate", "--json"], capture_output=True, text=True, cwd=outside, env=env, timeout=600)
    assert rate.returncode == 0, rate.stderr
    assert '"rate_per_year"' in rate.stdout and "built-in" in rate.stdout


@pytest.mark.parametrize("package", PHYSICS)
def test_each_physics_package_switches_on_double_precision(package):
    """Imported alone, in a fresh process, every physics layer computes in float64;
    `import cnbfluor` alone (version, argument errors) does not import JAX."""
    code = (
        "import sys, cnbfluor\n"
        "assert 'jax' not in sys.modules, 'import cnbfluor imported jax'\n"
        f"import cnbfluor.{package}\n"
        "import jax, jax.numpy as jnp\n"
        "print(jax.config.jax_enable_x64, jnp.asarray(1.0).dtype)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "JAX_ENABLE_X64"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "float64"]
