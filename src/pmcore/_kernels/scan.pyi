import numpy as np

def scan_range(blocks: np.ndarray, lo: int, hi: int, cstart: int, cend: int, width: int,
               max_shift: int, pam_f: np.ndarray, pam_r: np.ndarray, qwords: np.ndarray,
               qgeneral: np.ndarray, qmax: np.ndarray, groups: np.ndarray,
               vmasks: np.ndarray, vpos: np.ndarray, all_placements: bool,
               out_q: np.ndarray, out_pos: np.ndarray, out_strand: np.ndarray,
               out_type: np.ndarray, out_size: np.ndarray, out_bpos: np.ndarray,
               out_mm: np.ndarray) -> tuple[int, int]: ...
def stream_pass(blocks: np.ndarray) -> tuple[int, int, int, int, int]: ...
def cpu_has_popcnt() -> bool: ...
