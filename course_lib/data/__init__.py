"""Real datasets, loaded as tensors: look in the data root, download and verify if absent, fail clearly.

    load_mnist(train, n)    torchvision's MNIST               ImageData, 1 x 28 x 28
    load_cifar10(train, n)  CIFAR-10 python batches           ImageData, 3 x 32 x 32
    load_fsdd(split)        Free Spoken Digit Dataset 1.0.10  SpokenDigits, 8 kHz waves
    load_digits(n)          scikit-learn's 8 x 8 digits       ImageData, 1 x 8 x 8
    load_clip(name)         a real UCF101 / Kinetics clip     VideoClip, T x 3 x H x W (PyAV)
    load_grid(name)         a GRID talking-face clip + speech TalkingClip, frames + mono wave (PyAV)
    make_moving_digits(...) MNIST digits in motion, 6 actions MovingDigits, N x T x 1 x 48 x 48 (generated)

The data root is ``config.data_root()`` (env COURSE_DATA) unless a loader gets ``root=``. When a dataset cannot
be had, a ``DataUnavailable`` says which, where it was looked for, and the two fixes; see also
``python -m course_lib.data status`` and ``python -m course_lib.data fetch NAME|all``.
"""

from course_lib.data._fetch import DataCorrupt, DataUnavailable, writable
from course_lib.data._image import ImageData
from course_lib.data.cifar10 import load_cifar10
from course_lib.data.clips import VideoClip, load_clip
from course_lib.data.digits import load_digits
from course_lib.data.fsdd import SpokenDigits, load_fsdd
from course_lib.data.grid import TalkingClip, load_grid
from course_lib.data.mnist import load_mnist
from course_lib.data.moving_digits import MovingDigits, make_moving_digits

__all__ = ["DataCorrupt", "DataUnavailable", "ImageData", "MovingDigits", "SpokenDigits", "TalkingClip", "VideoClip",
           "load_cifar10", "load_clip", "load_digits", "load_fsdd", "load_grid", "load_mnist", "make_moving_digits",
           "writable"]
