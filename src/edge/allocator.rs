//! The worker's allocator: talc for the heap, with a free list per size class in front of it for
//! small blocks. A warm request makes about a hundred small allocations (header names and values,
//! the plan's strings), and inside the wasm their malloc and free were the largest single cost of
//! a request (a fifth of the wasm's time under talc alone, `node --cpu-prof bench/steps.mjs
//! --warm-only`). A small block is now a pop from its class's list and a push back: no search,
//! no coalescing. Small blocks are kept for reuse and never returned to talc, so the memory they
//! hold is bounded by the most small blocks ever live at once.
//!
//! Hand-written because no maintained crate offers this in front of another allocator for wasm;
//! it is the only unsafe code in edgegate, and the wasm is single-threaded (no atomics), which is
//! what makes the unsynchronised lists sound.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout};
use std::cell::UnsafeCell;
use std::ptr;

/// The size classes; a block of a class is allocated from talc with this size and `ALIGN`.
const CLASSES: [usize; 8] = [16, 32, 48, 64, 96, 128, 192, 256];
/// Every small block's alignment: enough for any type the gateway allocates.
const ALIGN: usize = 16;

/// The global allocator (see the module documentation).
pub struct Pooled {
    heap: talc::wasm::WasmDynamicTalc,
    /// Per class, the first free block; a free block's first word points to the next one.
    free: UnsafeCell<[*mut u8; CLASSES.len()]>,
}

// SAFETY: wasm32-unknown-unknown without the atomics feature runs one thread: the lists are
// never touched concurrently.
unsafe impl Sync for Pooled {}

impl Pooled {
    /// An empty allocator over talc's wasm heap.
    pub const fn new() -> Pooled {
        Pooled {
            heap: talc::wasm::new_wasm_dynamic_allocator(),
            free: UnsafeCell::new([ptr::null_mut(); CLASSES.len()]),
        }
    }
}

/// The class of a size, by its number of 16-byte units (rounded up): the first class that holds
/// it. A table rather than a search: this runs on every allocation.
const CLASS_BY_UNITS: [u8; 17] = [0, 0, 1, 2, 3, 4, 4, 5, 5, 6, 6, 6, 6, 7, 7, 7, 7];

// Checked when compiling: each entry is the smallest class that holds its number of units.
const _: () = {
    let mut units = 0;
    while units < CLASS_BY_UNITS.len() {
        let class = CLASS_BY_UNITS[units] as usize;
        assert!(CLASSES[class] >= units * ALIGN);
        assert!(class == 0 || CLASSES[class - 1] < units * ALIGN);
        units += 1;
    }
};

/// The class that serves `layout`, if it is small.
#[inline(always)]
fn class_of(layout: Layout) -> Option<usize> {
    if layout.align() > ALIGN {
        return None;
    }
    let units = layout.size().checked_add(ALIGN - 1)? / ALIGN;
    CLASS_BY_UNITS.get(units).map(|&class| usize::from(class))
}

unsafe impl GlobalAlloc for Pooled {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let Some(class) = class_of(layout) else {
            return self.heap.alloc(layout);
        };
        // SAFETY: one thread (see `Sync`); no reference to the lists outlives this call.
        let free = &mut *self.free.get();
        let head = free[class];
        if head.is_null() {
            return self
                .heap
                .alloc(Layout::from_size_align_unchecked(CLASSES[class], ALIGN));
        }
        // SAFETY: a free block holds the next free block's address in its first word, and is
        // at least 16 bytes, aligned to 16.
        free[class] = *(head as *mut *mut u8);
        head
    }

    unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
        let Some(class) = class_of(layout) else {
            return self.heap.dealloc(block, layout);
        };
        let free = &mut *self.free.get();
        *(block as *mut *mut u8) = free[class];
        free[class] = block;
    }

    unsafe fn realloc(&self, block: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let new_layout = Layout::from_size_align_unchecked(new_size, layout.align());
        match (class_of(layout), class_of(new_layout)) {
            // The block already has room: its class's size.
            (Some(old), Some(new)) if old == new => block,
            // Both large: talc may grow it in place.
            (None, None) => self.heap.realloc(block, layout, new_size),
            _ => {
                let moved = self.alloc(new_layout);
                if !moved.is_null() {
                    ptr::copy_nonoverlapping(block, moved, layout.size().min(new_size));
                    self.dealloc(block, layout);
                }
                moved
            }
        }
    }
}
