"""Training configurations the tests share."""

from ckatools.training import TrainConfig

# The smallest network that learns the synthetic set in a few seconds an epoch.
SMOKE = TrainConfig(dataset="synthetic", depth=8, width=0.25, epochs=2, batch_size=64, lr=0.05)
# Where a test needs a stored or resumed network, not one that learns: an eighth of the
# synthetic set trains in seconds (the whole set: about 15 s a network here).
ENTRY = SMOKE.replace(fraction=1 / 8)
