import torch

from course_lib.data import captioned_scenes as cs


def _mnist(n=100):
    labels = torch.arange(n) % 10
    return torch.rand(n, 1, 28, 28), labels


def test_captions_say_what_the_scene_holds_in_either_word_order():
    images, labels = _mnist()
    scenes = cs.make_scenes(images, labels, 40, seed=0)
    assert scenes.images.shape == (40, 3, 28, 56) and scenes.tokens.shape == (40, cs.LENGTH)
    assert torch.equal(labels[scenes.source], scenes.digit)
    for i, caption in enumerate(scenes.captions()):
        left = f"{cs.COLOURS[scenes.colour[i, 0]]} {int(scenes.digit[i, 0])}"
        right = f"{cs.COLOURS[scenes.colour[i, 1]]} {int(scenes.digit[i, 1])}"
        assert caption in (f"a {left} left of a {right}", f"a {right} right of a {left}")
    orders = {c.split()[3] for c in scenes.captions()}
    assert orders == {"left", "right"}
    assert torch.equal(cs.encode(scenes.captions()[0]), scenes.tokens[0])


def test_scenes_paint_each_slot_in_its_colour():
    images, labels = torch.ones(10, 1, 28, 28), torch.arange(10)
    scenes = cs.make_scenes(images, labels, 20, seed=1)
    for i in range(20):
        for slot in range(2):
            pixel = scenes.images[i, :, 0, 28 * slot]
            assert torch.allclose(pixel, cs.RGB[scenes.colour[i, slot]])


def test_held_out_pairs_never_appear_in_training_scenes_and_once_in_the_test_ones():
    images, labels = _mnist()
    heldout = {("red", 3), ("blue", 1)}
    pairs = {(0, 3), (2, 1)}
    train = cs.make_scenes(images, labels, 500, heldout=heldout, seed=2)
    held = cs.make_scenes(images, labels, 200, heldout=heldout, include_heldout=True, seed=3)

    def count(scenes):
        return torch.tensor([[(int(c), int(d)) in pairs for c, d in zip(cr, dr, strict=True)]
                             for cr, dr in zip(scenes.colour, scenes.digit, strict=True)]).sum(1)

    assert (count(train) == 0).all() and (count(held) == 1).all()
    assert {int(d) for d in train.digit.flatten()} == set(range(10))  # every digit still seen, in other colours


def test_alternatives_change_only_the_asked_slot_and_include_the_right_caption():
    images, labels = _mnist()
    scenes = cs.make_scenes(images, labels, 6, seed=4)
    slot = torch.tensor([0, 1, 0, 1, 0, 1])
    options = cs.alternatives(scenes, slot)
    assert options.shape == (6, 30, cs.LENGTH)
    for i in range(6):
        right = int(scenes.colour[i, slot[i]] * 10 + scenes.digit[i, slot[i]])
        words = cs.decode(options[i, right]).split()
        assert words == (f"a {cs.COLOURS[scenes.colour[i, 0]]} {int(scenes.digit[i, 0])} left of a "
                         f"{cs.COLOURS[scenes.colour[i, 1]]} {int(scenes.digit[i, 1])}").split()
        assert len({cs.decode(o) for o in options[i]}) == 30
