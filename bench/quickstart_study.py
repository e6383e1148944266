#!/usr/bin/python3
"""What the quick start's minutes buy: trains the reference DCGAN on Fashion-MNIST for a
fixed wall time under each recipe (a set of train_gan flags), evaluates every checkpoint
with `eval` in the embedding of a train_classifier model, and prints one markdown table of
steps done, minutes and FD / precision / recall per checkpoint.

    /usr/bin/python3 bench/quickstart_study.py --classifier runs/classifier --out /tmp/study \\
        quickstart= batch32=--batch,32

A recipe is NAME=FLAGS with FLAGS comma-separated (empty: train_gan's defaults, which the
quick start uses). Every run has the same seed; nothing else should use the cores meanwhile,
since the steps done in the time budget are part of the result.
"""
import argparse
import json
import os
import subprocess
import sys


def run(command):
    done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed (exit {done.returncode}):\n{done.stderr}")


def seconds_at_steps(run_dir):
    """step -> seconds since the start of training, from metrics.jsonl."""
    seconds = {}
    with open(os.path.join(run_dir, "metrics.jsonl")) as lines:
        for line in lines:
            record = json.loads(line)
            seconds[record["step"]] = record["seconds"]
    return seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("recipes", nargs="+", help="NAME=FLAGS, FLAGS comma-separated train_gan flags")
    parser.add_argument("--apps", default="build/apps", help="folder of train_gan and eval [build/apps]")
    parser.add_argument("--classifier", required=True, help="train_classifier run directory or checkpoint")
    parser.add_argument("--out", required=True, help="folder for the runs (one sub-folder per recipe)")
    parser.add_argument("--minutes", type=float, default=5.0, help="training time per recipe [5]")
    parser.add_argument("--checkpoint-every", type=int, default=500, help="steps between evaluated checkpoints [500]")
    parser.add_argument("--n", type=int, default=5000, help="generated images per evaluation [5000]")
    args = parser.parse_args()
    recipes = []
    for recipe in args.recipes:
        name, sep, flags = recipe.partition("=")
        if not sep or not name:
            parser.error(f"recipe {recipe!r}: expected NAME=FLAGS")
        recipes.append((name, [flag for flag in flags.split(",") if flag]))
    for tool in ("train_gan", "eval"):
        if not os.access(os.path.join(args.apps, tool), os.X_OK):
            parser.error(f"--apps: no {tool} in {args.apps} (cmake --build build --target {tool})")

    print(f"{args.minutes:g} minutes per recipe; eval of every checkpoint with {args.n} generated images")
    print("| recipe | flags | step | minutes | FD | precision | recall |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for name, flags in recipes:
        run_dir = os.path.join(args.out, name)
        run([os.path.join(args.apps, "train_gan"), "--data", "fashion-mnist", "--device", "cpu", "--minutes",
             str(args.minutes), "--steps", "1000000", "--checkpoint-every", str(args.checkpoint_every), "--keep",
             "1000", "--out", run_dir] + flags)
        seconds = seconds_at_steps(run_dir)
        checkpoints = sorted(os.listdir(os.path.join(run_dir, "checkpoints")))
        for checkpoint in checkpoints:
            step = int(checkpoint.removeprefix("step_").removesuffix(".safetensors"))
            metrics = os.path.join(run_dir, f"eval_{step}.json")
            run([os.path.join(args.apps, "eval"), "--classifier", args.classifier, "--generated",
                 os.path.join(run_dir, "checkpoints", checkpoint), "--n", str(args.n), "--device", "cpu", "--out",
                 metrics])
            with open(metrics) as f:
                m = json.load(f)
            at = max((s for s in seconds if s <= step), default=None)
            minutes = f"{seconds[at] / 60:.2f}" if at is not None else "?"
            print(f"| {name} | {' '.join(flags) or '(defaults)'} | {step} | {minutes} | {m['fd']:.1f} | "
                  f"{m['precision']:.3f} | {m['recall']:.3f} |", flush=True)


if __name__ == "__main__":
    main()
