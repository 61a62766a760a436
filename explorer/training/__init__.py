"""Training a small DenseNet: data sets (digits, image-folder zips), the training loop as a pure
function, ``safetensors`` weights files with the config in their metadata, a trained model as a
classifier for Explain (``classifier``) and the jobs of the Train page (``work``)."""

from .data import ImageDataset, DatasetError, digits_dataset, zip_dataset
from .loop import TrainProgress, TrainResult, default_config, train
from .weights import ModelFileInfo, WeightsFileError, load_model, read_info, save_model

__all__ = ["DatasetError", "ImageDataset", "ModelFileInfo", "TrainProgress", "TrainResult", "WeightsFileError",
           "default_config", "digits_dataset", "load_model", "read_info", "save_model", "train", "zip_dataset"]
