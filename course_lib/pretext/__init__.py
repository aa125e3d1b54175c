"""Pretext tasks: how unlabelled data supervises itself.

Every pretext task is the same three things: a pairs maker that withholds part of each unlabelled sample
and turns it into (input, target), a head that predicts the target from the shared ``nets.Backbone``, and a
loss, written as ``loss_fn(model, batch)`` so that ``train.fit`` trains every task the same way.

    autoencoder       (input, target) = (x or a masked x, x): reconstruct the image (Vincent et al. 2008)
    transformations   (input, target) = (two views of x, how they are related): simulated egomotion
                      (Agrawal et al. 2015) and contrastive learning with NT-Xent (SimCLR, Chen et al. 2020)
    temporal_order    (input, target) = (three frames of a video, are they in order?): tuple verification
                      with high-motion sampling (Shuffle and Learn, Misra et al. 2016)
    colorization      (input, target) = (L of a photo, its ab colour as soft-encoded bins): colorization as
                      classification, rebalanced, decoded with the annealed mean (Zhang et al. 2016)
    split_brain       (input, target) = (L, ab) and (ab, L): two cross-channel halves, concatenated
                      (split-brain autoencoders, Zhang et al. 2017)
    audio_visual      (input, target) = ((an image, a sound), do they belong together?): audio-visual
                      correspondence with concatenation (L3-Net) or distance (AVE-Net) fusion, positives and negatives
                      sampled the same way (Arandjelović & Zisserman 2017, 2018); and (image, the k-means cluster of
                      its sound's statistics): classes from sound (Owens et al. 2016)
    speech2image      (input, target) = (a spoken digit + a digit image in a writer's style, the spoken digit in that
                      style): audio encoder, identity encoder, decoder with skips, L1 (Speech2Vid, Chung et al. 2017)
    objects_that_sound (input, target) = (a spoken digit and a canvas of digits, is the spoken digit on it?):
                      an image tower that keeps a map, max over locations of the cosine with the audio embedding;
                      localisation from correspondence alone (AVOL-Net, Arandjelović & Zisserman 2018)
"""
