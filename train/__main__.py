"""``python -m train ...`` (and ``torchrun -m train ...``): the same as ``gin train``."""

from train.command import train_command

if __name__ == "__main__":
    train_command(prog_name="python -m train")
