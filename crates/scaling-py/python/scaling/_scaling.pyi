# Type stubs of the compiled core. Every function takes the data (a path, or a name and a list
# of (column, float64 array | list of str) pairs) and a JSON-encoded request, and returns the
# library's result as (JSON text, text report). The typed, documented API is in __init__.py.
from typing import Callable, List, Optional, Tuple, Union

import numpy as np

_Columns = Tuple[str, List[Tuple[str, Union["np.ndarray", List[str]]]]]
_Data = Union[str, _Columns]

__version__: str

def fit(data: _Data, request: str, progress: Optional[Callable[[int, int], None]] = ...) -> Tuple[str, str]: ...

def isoflop(data: _Data, request: str) -> Tuple[str, str]: ...
def envelope(data: _Data, request: str) -> Tuple[str, str]: ...
def compare(data: _Data, request: str) -> Tuple[str, str]: ...
def powerlaw(data: _Data, request: str) -> Tuple[str, str]: ...
