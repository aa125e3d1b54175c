import functools

import pytest
import torch

from course_lib import nets, train
from course_lib.pretext import autoencoder


@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 32, 32)])
def test_reconstruction_has_the_input_shape_and_is_the_sigmoid_of_the_logits_the_loss_takes(shape):
    model = autoencoder.AutoEncoder(nets.Backbone(shape[0], width=4), shape).eval()
    x = torch.rand(2, *shape)
    z = model(x)
    assert z.shape == (2, *shape)
    logits = model.logits(x)
    assert torch.allclose(z, torch.sigmoid(logits)) and torch.equal(z > 0.5, logits > 0)
    assert not torch.allclose(z[0], z[1])  # each image its own reconstruction


def test_decoder_maps_conv5_back_to_image_size():
    backbone = nets.Backbone(3, width=4)
    decoder = nets.Decoder(backbone.out_dim, out_channels=5, image_size=32, width=4)
    assert decoder(backbone(torch.rand(2, 3, 32, 32))).shape == (2, 5, 32, 32)


def test_non_square_images_are_refused():
    with pytest.raises(ValueError, match="square"):
        autoencoder.AutoEncoder(nets.Backbone(1, width=4), (1, 28, 32))


def test_mask_noise_zeroes_the_requested_fraction_of_pixels_of_every_image():
    x = torch.ones(5, 3, 10, 10)
    masked = autoencoder.mask_noise(x, 0.3)
    zero_pixels = (masked == 0).all(dim=1).flatten(1).sum(1)  # a pixel is masked in all its channels
    assert zero_pixels.tolist() == [30] * 5
    assert ((masked == 0) | (masked == 1)).all()


def test_mask_noise_only_zeroes_and_draws_per_image():
    torch.manual_seed(0)
    x = torch.rand(2, 1, 28, 28) + 0.1  # no zeros in the input
    masked = autoencoder.mask_noise(x, 0.5)
    assert ((masked == 0) | (masked == x)).all()
    assert not torch.equal(masked[0] == 0, masked[1] == 0)


def test_mask_noise_extremes_and_bad_fraction():
    x = torch.rand(2, 1, 8, 8)
    assert torch.equal(autoencoder.mask_noise(x, 0.0), x)
    assert (autoencoder.mask_noise(x, 1.0) == 0).all()
    with pytest.raises(ValueError):
        autoencoder.mask_noise(x, 1.5)


def test_loss_targets_the_clean_image():
    # a model that outputs its input exactly has a lower loss without noise than with it
    torch.manual_seed(0)
    x = (torch.rand(4, 1, 8, 8) > 0.5).float()

    class Copy(torch.nn.Module):
        def logits(self, images):
            return (2 * images - 1) * 20  # sigmoid(logits) == images, up to 2e-9

    clean, _ = autoencoder.reconstruction_loss(Copy(), (x,), noise=0.0)
    noisy, _ = autoencoder.reconstruction_loss(Copy(), (x,), noise=0.5)
    assert clean < 1e-6 < noisy


@pytest.mark.parametrize("noise", [0.0, 0.25])
def test_a_few_fit_steps_lower_the_reconstruction_loss(noise, rectangles):
    torch.manual_seed(0)
    x = rectangles(16)
    model = autoencoder.AutoEncoder(nets.Backbone(1, width=4))
    loss_fn = functools.partial(autoencoder.reconstruction_loss, noise=noise)
    history = train.fit(model, train.batches(x, batch_size=16), loss_fn, steps=30, lr=1e-2, progress=False,
                        log_every=1)
    assert history["loss"][-1] < 0.5 * history["loss"][0]
    assert history["mse"][-1] < x.var()  # better than predicting the average grey level everywhere
