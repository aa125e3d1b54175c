import matplotlib
import pytest
import torch

from course_lib import audio, show
from course_lib.data.fsdd import SpokenDigits

matplotlib.use("Agg")


def _spoken(lengths=(100, 9000, 3000), speakers=("theo", "jackson", "lucas")) -> SpokenDigits:
    waves = [torch.ones(n) for n in lengths]
    return SpokenDigits(waves, torch.arange(len(lengths)), list(speakers), torch.tensor([0, 7, 3][:len(lengths)]))


def test_fixed_length_pads_short_and_trims_long_recordings():
    out = audio.fixed_length([torch.ones(100), torch.ones(9000)], samples=1000)
    assert out.shape == (2, 1000)
    assert out[0].sum() == 100 and out[1].sum() == 1000


@pytest.mark.parametrize("align, first", [("start", 0), ("centre", 450)])
def test_fixed_length_places_the_recording_where_asked(align, first):
    out = audio.fixed_length([torch.ones(100)], samples=1000, align=align)
    assert int(out[0].nonzero()[0]) == first


def test_fixed_length_random_offsets_depend_on_the_generator():
    waves = [torch.ones(10)] * 20
    a = audio.fixed_length(waves, 100, "random", torch.Generator().manual_seed(0))
    b = audio.fixed_length(waves, 100, "random", torch.Generator().manual_seed(0))
    assert torch.equal(a, b) and len({int(row.nonzero()[0]) for row in a}) > 1


def test_fixed_length_refuses_an_unknown_alignment():
    with pytest.raises(ValueError, match="align"):
        audio.fixed_length([torch.ones(3)], 10, align="middle")


def test_mel_filters_are_triangles_that_rise_in_frequency():
    bank = audio.mel_filterbank(n_mels=8, n_fft=256)
    assert bank.shape == (8, 129)
    peaks = bank.argmax(dim=1)
    assert torch.all(peaks[1:] > peaks[:-1])
    steps = bank.diff(dim=1)
    for row, peak in zip(steps, peaks.tolist(), strict=True):  # one triangle: up to its peak, then down
        assert (row[:peak] >= 0).all() and (row[peak:] <= 0).all()
    between = bank[:, int(peaks[0]) + 1:int(peaks[-1])]  # each filter falls as the next one rises
    assert torch.allclose(between.sum(0), torch.ones(between.shape[1]), atol=1e-5)


def test_mel_scale_round_trips():
    hz = torch.tensor([0.0, 440.0, 4000.0])
    assert torch.allclose(audio.mel_to_hz(audio.hz_to_mel(hz)), hz, atol=1e-2)


def test_log_mel_gives_a_one_channel_square_picture_by_default():
    specs = audio.log_mel(torch.randn(3, audio.SAMPLES))
    assert specs.shape == (3, 1, audio.N_MELS, 32)


def test_log_mel_puts_a_low_tone_below_a_high_one():
    t = torch.arange(audio.SAMPLES) / 8000
    tones = torch.stack([torch.sin(2 * torch.pi * 300 * t), torch.sin(2 * torch.pi * 3000 * t)])
    loudest_band = audio.log_mel(tones)[:, 0].mean(-1).argmax(-1)
    assert loudest_band[0] < loudest_band[1]


def test_log_mel_refuses_a_single_waveform():
    with pytest.raises(ValueError, match="N x samples"):
        audio.log_mel(torch.randn(100))


def test_standardise_uses_the_given_statistics():
    x = torch.randn(10, 1, 4, 4) * 3 + 5
    assert torch.allclose(audio.standardise(x).mean(), torch.tensor(0.0), atol=1e-5)
    assert torch.equal(audio.standardise(x, 5.0, 3.0), (x - 5) / 3)


def test_by_speaker_holds_out_whole_speakers():
    train, test = audio.by_speaker(_spoken())
    assert test.speaker == ["theo"] and "theo" not in train.speaker


def test_by_speaker_names_an_unknown_speaker():
    with pytest.raises(ValueError, match="nobody"):
        audio.by_speaker(_spoken(), ("nobody",))


def test_by_take_puts_takes_0_to_4_in_the_test_set():
    train, test = audio.by_take(_spoken())
    assert sorted(test.take.tolist()) == [0, 3] and train.take.tolist() == [7]


def test_pair_by_digit_pairs_every_recording_with_an_image_of_its_digit():
    audio_digits = torch.tensor([3, 1, 3, 0])
    image_digits = torch.tensor([0, 1, 3, 3, 1])
    picked = audio.pair_by_digit(audio_digits, image_digits, torch.Generator().manual_seed(0))
    assert torch.equal(image_digits[picked], audio_digits)


def test_pair_by_digit_says_which_digit_has_no_image():
    with pytest.raises(ValueError, match="digit 7"):
        audio.pair_by_digit(torch.tensor([7]), torch.tensor([1]))


def test_envelope_is_louder_where_the_signal_is():
    wave = torch.cat([torch.zeros(100), torch.randn(100)])
    env = audio.envelope(wave, hop=50)
    assert env.shape == (4,) and env[2:].min() > env[:2].max()


def test_spectrograms_and_heatmaps_draw_one_panel_per_item():
    assert len(show.spectrograms(torch.randn(3, 1, 8, 8), ["a", "b", "c"]).axes) == 3
    assert len(show.heatmaps(torch.rand(2, 1, 16, 16), torch.rand(2, 4, 4)).axes) == 2


def test_audio_player_plays_at_the_given_rate():
    wav = show.audio_player(torch.randn(800), 8000).data  # a RIFF/WAVE file; bytes 24-27 hold the sample rate
    assert wav[:4] == b"RIFF" and int.from_bytes(wav[24:28], "little") == 8000


def test_spectrograms_standardise_test_with_the_training_statistics():
    g = torch.Generator().manual_seed(0)
    quiet = SpokenDigits([0.1 * torch.randn(4000, generator=g) for _ in range(4)], torch.arange(4), ["a"] * 4,
                         torch.zeros(4, dtype=torch.long))
    loud = SpokenDigits([torch.randn(4000, generator=g) for _ in range(2)], torch.arange(2), ["b"] * 2,
                        torch.zeros(2, dtype=torch.long))
    train, test = audio.spectrograms(quiet, loud)
    assert train.shape == (4, 1, 32, 32) and test.shape == (2, 1, 32, 32)
    assert abs(train.mean().item()) < 1e-4 and abs(train.std().item() - 1) < 1e-3
    assert test.mean().item() > 0.3  # louder than training (standardised with its own statistics it would be 0)


def test_said_by_marks_the_recordings_of_one_voice_the_validation_voice_by_default():
    speakers = ["theo", audio.VALIDATION_SPEAKER, "nicolas", audio.VALIDATION_SPEAKER]
    assert audio.said_by(speakers).tolist() == [False, True, False, True]
    assert audio.said_by(speakers, "theo").tolist() == [True, False, False, False]
    assert audio.said_by(speakers).dtype == torch.bool
