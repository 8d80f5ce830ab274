"""Benchmarks of nnscratch against PyTorch: ``make bench`` (or ``python bench/run.py``).

Prints a table and writes ``bench/results.json`` and ``bench/scaling.png``. Parts:
``throughput`` (training, and the sgemm peak), ``scaling`` (batch size and width),
``cnn`` (two small CNNs against torch and a hand-written NumPy step), ``course`` (every
notebook, deck and project notebook under nbclient) and ``import`` (import time).
``--quick`` runs fewer, shorter rounds and a smaller scaling grid.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PARTS = ("throughput", "scaling", "cnn", "course", "import")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options (see ``--help``)."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="fewer rounds, smaller scaling grid")
    p.add_argument("--parts", default=",".join(PARTS), help=f"comma list of {', '.join(PARTS)}")
    p.add_argument("--threads", type=int, default=2, help="threads for NumPy and torch (2)")
    p.add_argument(
        "--clock",
        choices=("wall", "process"),
        default="wall",
        help="time training blocks by wall time (default) or by this process's CPU time "
        "(for a heavily loaded machine; use with --threads 1)",
    )
    p.add_argument("--out", type=Path, default=HERE / "results.json", help="results file")
    p.add_argument("--plot", type=Path, default=HERE / "scaling.png", help="scaling figure")
    p.add_argument(
        "--notebooks",
        nargs="*",
        default=["notebooks", "lectures", "projects"],
        help="folders to execute (make execute's)",
    )
    p.add_argument(
        "--readme",
        type=Path,
        default=None,
        help="README whose table block to refresh (default: bench/README.md when --out is "
        "the default; '' for none)",
    )
    args = p.parse_args(argv)
    args.parts = [s.strip() for s in args.parts.split(",") if s.strip()]
    if args.readme is None:
        args.readme = HERE / "README.md" if args.out == HERE / "results.json" else Path("")
    unknown = set(args.parts) - set(PARTS)
    if unknown:
        p.error(f"unknown part(s) {sorted(unknown)}; choose from {', '.join(PARTS)}")
    return args


def pin_threads(threads: int) -> None:
    """Ask every BLAS/OpenMP runtime for ``threads`` threads; must run before NumPy loads."""
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(threads)


# ---------------------------------------------------------------- targets and the table


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target (bench/README.md) with the measured value and whether it is met."""
    rows: list[dict[str, Any]] = []

    def add(name: str, value: float, op: str, bound: float, shown: str, goal: str) -> None:
        ok = value >= bound if op == ">=" else value <= bound
        rows.append(
            {
                "target": name,
                "value": value,
                "bound": bound,
                "op": op,
                "shown": shown,
                "goal": goal,
                "ok": bool(ok),
            }
        )

    if "throughput" in results:
        t = results["throughput"]
        r, f = t["ratio_vs_torch"]["nnscratch"], t["fraction_of_peak"]["nnscratch"]
        add("throughput nnscratch / torch", r, ">=", 1.2, f"{r:.2f}x", ">= 1.2x")
        if "ratio_vs_numpy_by_hand" in t:
            h = t["ratio_vs_numpy_by_hand"]["nnscratch"]
            add("throughput nnscratch / numpy by hand", h, ">=", 0.9, f"{h:.2f}x", ">= 0.9x")
        add("fraction of sgemm peak", f, ">=", 0.6, f"{f:.0%}", ">= 60%")
    for c in results.get("cnn", []):
        what = f"CNN ({c['model']}, {c['dtype']}) nnscratch"
        r, h = c["ratio_vs_torch"]["nnscratch"], c["ratio_vs_ceiling"]["nnscratch"]
        add(f"{what} / torch", r, ">=", 0.6, f"{r:.2f}x", ">= 0.6x")
        add(f"{what} / numpy ceiling", h, ">=", 0.9, f"{h:.2f}x", ">= 0.9x")
    if "course" in results and results["course"]["count"]:
        c = results["course"]
        add("slowest notebook", c["max_s"], "<=", 45, f"{c['max_s']:.1f} s", "<= 45 s")
        add("whole course", c["total_s"], "<=", 120, f"{c['total_s']:.0f} s", "<= 120 s")
    if "import" in results:
        extra = results["import"]["extra_s"]
        add("import nnscratch, extra", extra, "<=", 0.2, f"{extra:.3f} s", "<= 0.2 s")
    return rows


def table(results: dict[str, Any]) -> str:
    """The results as Markdown tables (readable in a terminal, pasted into the README)."""
    from bench import throughput

    m = results["meta"]
    lines = [
        f"nnscratch benchmarks, {m['date']}: {m['cpu']}, {m['cpus']} CPUs, "
        f"{m['threads']} threads (NumPy BLAS {m['blas_threads']['numpy']}, "
        f"torch {m['blas_threads']['torch']}), NumPy {m['numpy']}, torch {m['torch']}"
        + (", quick" if m["quick"] else "")
        + (", timed by CPU time of this process" if m.get("clock") == "process" else ""),
        "",
    ]
    if "throughput" in results:
        t = results["throughput"]
        sizes = "-".join(map(str, t["sizes"]))
        lines += [
            f"Training throughput: {sizes} MLP, batch {t['batch']}, float32, SGD, "
            f"median of {t['rounds']} interleaved rounds; sgemm peak "
            f"{t['peak_gflops']:.0f} GFLOP/s (NumPy {t['sgemm_gflops']['numpy']:.0f}, "
            f"torch {t['sgemm_gflops']['torch']:.0f})",
            "",
            "| library | samples/s | vs torch | vs numpy by hand | GFLOP/s | of sgemm peak "
            "| (6N count) |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        by_hand = t.get("ratio_vs_numpy_by_hand", {})
        for lib in throughput.TRAINING_LIBS:
            sps = t["samples_per_s"][lib]
            hand = f"{by_hand[lib]:.2f}x" if lib in by_hand else "-"
            lines.append(
                f"| {lib.replace('_', ' ')} | {sps:,.0f} | {t['ratio_vs_torch'][lib]:.2f}x | "
                f"{hand} | {sps * t['flops_per_sample'] / 1e9:.0f} | "
                f"{t['fraction_of_peak'][lib]:.0%} | ({t['fraction_of_peak_6n'][lib]:.0%}) |"
            )
        b = t["best"]
        lines += [
            "",
            f"Fastest round of each (less disturbed by other load): nnscratch "
            f"{b['samples_per_s']['nnscratch']:,.0f} samples/s, torch "
            f"{b['samples_per_s']['torch']:,.0f} (ratio {b['ratio_vs_torch']:.2f}x), numpy by "
            f"hand {b['samples_per_s']['numpy_by_hand']:,.0f}, numpy tuned "
            f"{b['samples_per_s']['numpy_tuned']:,.0f}; sgemm {b['peak_gflops']:.0f} GFLOP/s",
            "",
        ]
        naive = t.get("no_pause")
        if naive:
            r = naive["ratio_vs_torch"]
            lines += [
                f"Without the pause before each block ({naive['rounds']} rounds, not used "
                f"above): nnscratch {r['nnscratch']:.2f}x torch, numpy by hand "
                f"{r['numpy_by_hand']:.2f}x, numpy tuned {r['numpy_tuned']:.2f}x; torch's "
                f"own sgemm {naive['sgemm_gflops']['torch']:.0f} GFLOP/s (NumPy's "
                f"{naive['sgemm_gflops']['numpy']:.0f})",
                "",
            ]
    if "scaling" in results:
        s = results["scaling"]
        for key, label in (("batch", "batch size"), ("width", "hidden width")):
            d = s[key]
            lines += [
                f"Scaling with {label} (samples/s)",
                "",
                "| " + label + " | " + " | ".join(map(str, d["x"])) + " |",
                "|---" * (len(d["x"]) + 1) + "|",
                "| nnscratch | " + " | ".join(f"{v:,.0f}" for v in d["nnscratch"]) + " |",
                "| torch | " + " | ".join(f"{v:,.0f}" for v in d["torch"]) + " |",
                "| ratio | " + " | ".join(f"{v:.2f}x" for v in d["ratio"]) + " |",
                "",
            ]
    if "cnn" in results:
        lines += [
            "CNN training step (forward, loss, backward_params, SGD), median of interleaved "
            "rounds; *reference* is the same model with every layer's fast=False (the library "
            "before its fast paths)",
            "",
            "| model | dtype | batch | nnscratch | reference | torch | numpy ceiling "
            "| vs torch | vs ceiling | reference vs torch |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for c in results["cnn"]:
            sps, rt = c["samples_per_s"], c["ratio_vs_torch"]
            lines.append(
                f"| {c['model']} | {c['dtype']} | {c['batch']} | {sps['nnscratch']:,.0f} | "
                f"{sps['nnscratch_reference']:,.0f} | {sps['torch']:,.0f} | "
                f"{sps['numpy_ceiling']:,.0f} | {rt['nnscratch']:.2f}x | "
                f"{c['ratio_vs_ceiling']['nnscratch']:.2f}x | {rt['nnscratch_reference']:.2f}x |"
            )
        lines.append("")
    if "course" in results:
        c = results["course"]
        slow = ", ".join(f"{r['path']} {r['seconds']:.1f} s" for r in c["slowest"]) or "none"
        lines += [
            f"Course: {c['count']} notebooks in {c['total_s']:.1f} s"
            + (f", {c['failed']} FAILED" if c["failed"] else "")
            + f"; slowest: {slow}",
            "",
            *_startup_lines(c.get("startup")),
            *_breakdown_lines(c),
            "| notebook | seconds | in fit | in torch train | in show (figures) |",
            "|---|---:|---:|---:|---:|",
            *(
                f"| {r['path']} | {r['seconds']:.1f}{' (failed)' if r['error'] else ''} | "
                f"{r.get('fit_s', 0):.1f} | {r.get('torch_train_s', 0):.1f} | "
                f"{r.get('show_s', 0):.1f} ({r.get('figures', 0)}) |"
                for r in sorted(c["notebooks"], key=lambda r: r["seconds"], reverse=True)
            ),
            "",
        ]
    if "import" in results:
        i = results["import"]
        heavy = ", ".join(i["heavy_modules_imported"]) or "none"
        lines += [
            f"Import: python -c pass {i['bare_s']:.3f} s, import nnscratch {i['import_s']:.3f} s,"
            f" extra {i['extra_s']:.3f} s, of which NumPy alone {i['numpy_extra_s']:.3f} s "
            f"(medians of {i['rounds']}); heavy modules pulled in: {heavy}",
            "",
        ]
    rows = targets(results)
    if rows:
        lines += ["| target | measured | goal | met |", "|---|---:|---:|:---:|"]
        lines += [
            f"| {r['target']} | {r['shown']} | {r['goal']} | {'yes' if r['ok'] else 'NO'} |"
            for r in rows
        ]
    return "\n".join(lines)


def _startup_lines(s: dict[str, Any] | None) -> list[str]:
    # What the course costs before any lesson runs: the part no library change can remove.
    if not s:
        return []
    return [
        f"Start-up floor (medians of {s['rounds']}): a kernel {s['kernel_s']:.2f} s, the "
        f"plotting imports of a first cell {s['plotting_imports_s']:.2f} s, import torch "
        f"{s['torch_import_s']:.2f} s; for {s['notebooks']} notebooks, "
        f"{s['notebooks_with_torch']} of them with torch: {s['floor_s']:.0f} s before any lesson "
        f"runs. The first step of a torch optimiser adds {s['optimiser_first_step_s']:.2f} s "
        "(torch imports its compiler package then)",
        "",
    ]


def _breakdown_lines(c: dict[str, Any]) -> list[str]:
    # Where the course's time goes, as counted in the kernels (bench/course_probe.py).
    if "fit_s" not in c:
        return []
    floor = c.get("startup", {}).get("floor_s")
    rest = c["total_s"] - c["fit_s"] - c["torch_train_s"] - c["show_s"] - (floor or 0)
    return [
        f"Where the {c['total_s']:.0f} s go: {c['fit_s']:.1f} s training in nnscratch's `fit`, "
        f"{c['torch_train_s']:.1f} s in torch's `train`, {c['show_s']:.1f} s drawing "
        f"{c['figures']} figures with `show`"
        + (f", the start-up floor {floor:.0f} s" if floor is not None else "")
        + f"; everything else {rest:.0f} s",
        "",
    ]


TABLE_START, TABLE_END = "<!-- bench-table -->", "<!-- /bench-table -->"


def update_readme(path: Path, text: str) -> bool:
    """Put ``text`` between the table markers of ``path``; False if it has no markers."""
    if not path.is_file():
        return False
    doc = path.read_text()
    start, end = doc.find(TABLE_START), doc.find(TABLE_END)
    if start < 0 or end < start:
        return False
    path.write_text(doc[: start + len(TABLE_START)] + "\n" + text + "\n" + doc[end:])
    return True


def plot_scaling(scaling: dict[str, Any], path: Path) -> None:
    """Samples/s against batch size and against width, both libraries, log-log axes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    styles = {"nnscratch": ("#0072B2", "o", "-"), "torch": ("#E69F00", "s", "--")}
    sizes = "-".join(map(str, scaling["base_sizes"]))
    titles = {
        "batch": (f"Batch size ({sizes} MLP)", "batch size (samples per step)"),
        "width": (f"Width (784-w-w-10 MLP, batch {scaling['base_batch']})", "hidden width w"),
    }
    for ax, key in zip(axes, ("batch", "width"), strict=True):
        d = scaling[key]
        for lib, (color, marker, ls) in styles.items():
            label = "nnscratch (NumPy)" if lib == "nnscratch" else "PyTorch (CPU)"
            ax.plot(d["x"], d[lib], color=color, marker=marker, linestyle=ls, label=label)
        ax.set_xscale("log", base=2)
        ax.set_xticks(d["x"], [str(v) for v in d["x"]])
        ax.minorticks_off()
        ax.set_yscale("log")
        ax.set_title(titles[key][0])
        ax.set_xlabel(titles[key][1])
        ax.set_ylabel("training throughput (samples/s)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    fig.suptitle("Training throughput, float32, same thread count, measured side by side")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


# ---------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the chosen parts, print the table, write the JSON (and the figure)."""
    args = parse_args(argv)
    pin_threads(args.threads)  # before NumPy is imported (a no-op for an already loaded one)
    import numpy as np
    import torch

    sys.path.insert(0, str(HERE.parent))
    from bench import cnn, course, throughput

    started = time.perf_counter()
    results: dict[str, Any] = {
        "meta": {
            "date": datetime.datetime.now().isoformat(timespec="seconds"),
            "cpu": _cpu_name(),
            "cpus": os.cpu_count(),
            "threads": args.threads,
            "blas_threads": throughput.set_threads(args.threads),
            "python": platform.python_version(),
            "numpy": np.__version__,
            "torch": torch.__version__,
            "quick": args.quick,
            "clock": args.clock,
            "load_average": list(os.getloadavg()),
        }
    }
    q = args.quick
    if args.clock == "process":
        throughput.CLOCK = time.process_time
    if "throughput" in args.parts:
        print("training throughput ...", flush=True)
        results["throughput"] = throughput.measure_training(
            rounds=9 if q else 25, seconds=0.06 if q else 0.1, no_pause_rounds=3 if q else 7
        )
    if "scaling" in args.parts:
        print("scaling ...", flush=True)
        results["scaling"] = throughput.measure_scaling(
            batches=(16, 128, 1024) if q else (16, 32, 64, 128, 256, 512, 1024),
            widths=(64, 256, 2048) if q else (64, 128, 256, 512, 1024, 2048),
            rounds=3 if q else 5,
            seconds=0.05 if q else 0.1,
        )
        plot_scaling(results["scaling"], args.plot)
    if "cnn" in args.parts:
        print("CNN throughput ...", flush=True)
        results["cnn"] = cnn.measure_cnn(rounds=5 if q else 15, seconds=0.06 if q else 0.1)
    if "import" in args.parts:
        print("import time ...", flush=True)
        results["import"] = course.time_import(rounds=5 if q else 9)
    if "course" in args.parts:
        print("course notebooks ...", flush=True)
        paths = [HERE.parent / d if not Path(d).is_absolute() else Path(d) for d in args.notebooks]
        results["course"] = course.time_notebooks(paths)
        results["course"]["startup"] = course.time_startup(paths, rounds=2 if q else 3)
    results["meta"]["load_average_end"] = list(os.getloadavg())
    results["meta"]["bench_seconds"] = time.perf_counter() - started
    results["targets"] = targets(results)
    print()
    print(table(results))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1) + "\n")
    written = [args.out] + ([args.plot] if "scaling" in args.parts else [])
    if str(args.readme) and update_readme(args.readme, table(results)):
        written.append(args.readme)
    print("\nwrote " + ", ".join(map(str, written)))
    return results


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


if __name__ == "__main__":
    main()
