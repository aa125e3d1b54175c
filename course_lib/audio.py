"""The audio front end of the sound track (08-10): recordings -> fixed-length waveforms -> log-mel spectrograms.

Everything is a batched tensor op (``torch.stft`` and one matrix product with a mel filter bank), so a whole
dataset becomes an ``N x 1 x n_mels x frames`` tensor in one call and the audio tower can be the same
``nets.Backbone`` the image tower is: a spectrogram is a one-channel picture of time against pitch.

    waves (N x samples, 8 kHz) --stft--> |X|^2 (N x freqs x frames) --mel--> log(mel + eps) --> N x 1 x 32 x 32

Splits of the Free Spoken Digit Dataset: ``by_take`` (the official one: takes 0-4 of every speaker are the test set,
so test speakers are heard in training) and ``by_speaker`` (whole speakers held out: the harder, honest split for
"does it generalise to new voices").
"""

from __future__ import annotations

import math

import torch

from course_lib.data.fsdd import TEST_TAKES, SpokenDigits

SAMPLES = 6144  # 0.77 s at 8 kHz: 95 % of FSDD recordings are shorter (median 0.42 s, longest 2.3 s)
N_FFT = 256  # 32 ms windows at 8 kHz
HOP = 192  # 24 ms between frames -> 32 frames for SAMPLES
N_MELS = 32
ALIGNS = ("start", "centre", "random")


def fixed_length(waves: list[torch.Tensor], samples: int = SAMPLES, align: str = "centre",
                 generator: torch.Generator | None = None) -> torch.Tensor:
    """An ``N x samples`` tensor: each recording zero-padded (or trimmed) to ``samples``.

    ``align`` says where the recording sits in the window: at the ``start``, in the ``centre``, or at a ``random``
    offset. How positives and negatives are padded is a shortcut a network can learn (notebook 08), so the choice
    is an argument, not a hidden default.
    """
    if align not in ALIGNS:
        raise ValueError(f"align must be one of {ALIGNS}, got {align!r}")
    out = torch.zeros(len(waves), samples)
    for i, wave in enumerate(waves):
        n = len(wave)
        if n > samples:  # trim symmetrically: speech sits in the middle of an FSDD recording
            start = (n - samples) // 2
            wave, n = wave[start:start + samples], samples
        room = samples - n
        if align == "start":
            offset = 0
        elif align == "centre":
            offset = room // 2
        else:
            offset = int(torch.randint(room + 1, (1,), generator=generator))
        out[i, offset:offset + n] = wave
    return out


def hz_to_mel(hz: torch.Tensor) -> torch.Tensor:
    return 2595.0 * torch.log10(1.0 + hz / 700.0)  # the HTK mel scale (O'Shaughnessy 1987)


def mel_to_hz(mel: torch.Tensor) -> torch.Tensor:
    return 700.0 * (10.0 ** (mel / 2595.0) - 1.0)


def mel_filterbank(n_mels: int = N_MELS, n_fft: int = N_FFT, sample_rate: int = 8000) -> torch.Tensor:
    """``n_mels x (n_fft // 2 + 1)`` triangular filters, evenly spaced on the mel scale from 0 Hz to Nyquist."""
    freqs = torch.linspace(0, sample_rate / 2, n_fft // 2 + 1)
    edges = mel_to_hz(torch.linspace(0, float(hz_to_mel(torch.tensor(sample_rate / 2.0))), n_mels + 2))
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (freqs - lower) / (centre - lower)
    falling = (upper - freqs) / (upper - centre)
    return torch.clamp(torch.minimum(rising, falling), min=0.0)


def log_mel(waves: torch.Tensor, sample_rate: int = 8000, n_mels: int = N_MELS, n_fft: int = N_FFT,
            hop: int = HOP, frames: int | None = None) -> torch.Tensor:
    """``N x samples`` waveforms -> ``N x 1 x n_mels x frames`` log-mel spectrograms (natural log of power).

    ``frames`` defaults to ``samples // hop``, so the default 6,144 samples give a 32 x 32 "image".
    """
    if waves.ndim != 2:
        raise ValueError(f"waves must be N x samples, got shape {tuple(waves.shape)}")
    frames = frames or waves.shape[1] // hop
    window = torch.hann_window(n_fft, device=waves.device)
    spec = torch.stft(waves, n_fft, hop_length=hop, window=window, return_complex=True)  # N x freqs x frames
    power = spec.abs().pow(2)[..., :frames]
    mel = mel_filterbank(n_mels, n_fft, sample_rate).to(waves.device) @ power
    return torch.log(mel + 1e-6).unsqueeze(1)


def standardise(specs: torch.Tensor, mean: float | None = None, std: float | None = None) -> torch.Tensor:
    """Zero mean, unit variance with statistics of the training set (pass them in for the test set)."""
    mean = specs.mean() if mean is None else mean
    std = specs.std() if std is None else std
    return (specs - mean) / std


def spectrograms(train: SpokenDigits, test: SpokenDigits, align: str = "centre") -> tuple[torch.Tensor, torch.Tensor]:
    """(train, test) recordings as ``1 x 32 x 32`` log-mel spectrograms, both standardised with the *training*
    recordings' mean and std: the test set's own statistics are not known at training time."""
    train_mel, test_mel = (log_mel(fixed_length(s.waves, align=align), s.sample_rate) for s in (train, test))
    mean, std = train_mel.mean(), train_mel.std()
    return standardise(train_mel, mean, std), standardise(test_mel, mean, std)


def by_take(spoken: SpokenDigits) -> tuple[SpokenDigits, SpokenDigits]:
    """The official FSDD split: (train, test) with takes 5-49 / 0-4 of every speaker."""
    test = torch.isin(spoken.take, torch.tensor(list(TEST_TAKES)))
    return spoken.subset(~test), spoken.subset(test)


# a training voice the audio probes choose their layer and C on: the test voice is unheard, so they choose on a voice
# they have not learned from either (notebooks 08 and 10)
VALIDATION_SPEAKER = "jackson"


def said_by(speakers, speaker: str = VALIDATION_SPEAKER, device=None) -> torch.Tensor:
    """A boolean mask over recordings: True where ``speakers`` (one name per recording) names ``speaker``."""
    return torch.tensor([s == speaker for s in speakers], device=device)


def by_speaker(spoken: SpokenDigits, test_speakers: tuple[str, ...] = ("theo",)) -> tuple[SpokenDigits, SpokenDigits]:
    """(train, test) with whole speakers held out: nobody in the test set was heard in training."""
    unknown = set(test_speakers) - set(spoken.speaker)
    if unknown:
        raise ValueError(f"no recordings of {sorted(unknown)}; speakers are {sorted(set(spoken.speaker))}")
    test = torch.tensor([s in test_speakers for s in spoken.speaker])
    return spoken.subset(~test), spoken.subset(test)


def pair_by_digit(audio_digits: torch.Tensor, image_digits: torch.Tensor, generator: torch.Generator | None = None
                  ) -> torch.Tensor:
    """For every recording, the index of a random image of the same digit (an AV-MNIST-style pairing).

    Images are drawn with replacement within each digit, so any number of recordings can be paired.
    """
    picked = torch.empty(len(audio_digits), dtype=torch.int64)
    for digit in audio_digits.unique():
        wanted = (audio_digits == digit).nonzero().flatten()
        pool = (image_digits == digit).nonzero().flatten()
        if len(pool) == 0:
            raise ValueError(f"no image of digit {int(digit)} to pair with")
        picked[wanted] = pool[torch.randint(len(pool), (len(wanted),), generator=generator)]
    return picked


def envelope(waves: torch.Tensor, hop: int, eps: float = 1e-8) -> torch.Tensor:
    """Log energy of each ``hop``-sample chunk: the loudness curve that notebook 10 aligns with lip motion."""
    n = waves.shape[-1] // hop
    chunks = waves[..., :n * hop].reshape(*waves.shape[:-1], n, hop)
    return torch.log(chunks.pow(2).mean(-1) + eps) / math.log(10.0)
