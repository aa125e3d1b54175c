"""``python -m course_lib.lessons.relative_position seeds``: notebook 02's detection transfer over seeds (``seeds``)."""

import argparse

from course_lib import config
from course_lib.lessons.relative_position.seeds import run_seeds

parser = argparse.ArgumentParser(prog="python -m course_lib.lessons.relative_position",
                                 description="notebook 02 measured over several seeds, written to "
                                             "results/<profile>/seeds/02_relative_position.json")
parser.add_argument("command", choices=["seeds"])
parser.add_argument("--profile", default=config.profile_name(), choices=config.PROFILE_NAMES,
                    help="whose sizes to use (default: COURSE_PROFILE, else lab)")
parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
parser.add_argument("--progress", action="store_true", help="show a progress bar per training run")
args = parser.parse_args()
print(f"wrote {run_seeds(args.profile, args.seeds, progress=args.progress)}")
