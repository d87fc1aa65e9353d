;; The tiny-wasm floor's module (bench/workers/tinywasm.mjs), compiled to bench's build folder by
;; bench/tinywasm-build.mjs (binaryen). No crypto: a table of 64-bit FNV-1a hashes of verified
;; tokens, each with its exp, open addressing with linear probing.
;; Memory: [0, 65536) the token's bytes, written by JS; [65536, 65536 + 16384 * 16) the table,
;; 16 bytes a slot: hash (i64, 0 = empty), exp (i32), unused (i32).
;; Bounded: at 8,192 entries (half full) the table is cleared.
(module
  (memory (export "memory") 6)
  (global $count (mut i32) (i32.const 0))

  (func $hash (param $ptr i32) (param $len i32) (result i64)
    (local $h i64) (local $end i32)
    (local.set $h (i64.const 0xcbf29ce484222325))
    (local.set $end (i32.add (local.get $ptr) (local.get $len)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $ptr) (local.get $end)))
        (local.set $h
          (i64.mul
            (i64.xor (local.get $h) (i64.extend_i32_u (i32.load8_u (local.get $ptr))))
            (i64.const 0x100000001b3)))
        (local.set $ptr (i32.add (local.get $ptr) (i32.const 1)))
        (br $next)))
    ;; 0 marks an empty slot
    (select (i64.const 1) (local.get $h) (i64.eqz (local.get $h))))

  (func $slot (param $i i32) (result i32)
    (i32.add (i32.const 65536) (i32.shl (local.get $i) (i32.const 4))))

  ;; The token's slot + 1 if its hash is registered and exp + 5 > now, else 0.
  (func (export "lookup") (param $ptr i32) (param $len i32) (param $now i32) (result i32)
    (local $h i64) (local $i i32) (local $a i32) (local $e i64)
    (local.set $h (call $hash (local.get $ptr) (local.get $len)))
    (local.set $i (i32.and (i32.wrap_i64 (local.get $h)) (i32.const 16383)))
    (loop $probe
      (local.set $a (call $slot (local.get $i)))
      (local.set $e (i64.load (local.get $a)))
      (if (i64.eqz (local.get $e)) (then (return (i32.const 0))))
      (if (i64.eq (local.get $e) (local.get $h))
        (then
          (return
            (select
              (i32.add (local.get $i) (i32.const 1))
              (i32.const 0)
              (i32.gt_s (i32.add (i32.load offset=8 (local.get $a)) (i32.const 5)) (local.get $now))))))
      (local.set $i (i32.and (i32.add (local.get $i) (i32.const 1)) (i32.const 16383)))
      (br $probe))
    (i32.const 0))

  ;; Registers the token's hash with its exp; returns its slot (for JS's table of user ids).
  (func (export "register") (param $ptr i32) (param $len i32) (param $exp i32) (result i32)
    (local $h i64) (local $i i32) (local $a i32) (local $e i64)
    (if (i32.ge_u (global.get $count) (i32.const 8192))
      (then
        (memory.fill (i32.const 65536) (i32.const 0) (i32.const 262144))
        (global.set $count (i32.const 0))))
    (local.set $h (call $hash (local.get $ptr) (local.get $len)))
    (local.set $i (i32.and (i32.wrap_i64 (local.get $h)) (i32.const 16383)))
    (loop $probe
      (local.set $a (call $slot (local.get $i)))
      (local.set $e (i64.load (local.get $a)))
      (if (i32.or (i64.eqz (local.get $e)) (i64.eq (local.get $e) (local.get $h)))
        (then
          (if (i64.eqz (local.get $e))
            (then (global.set $count (i32.add (global.get $count) (i32.const 1)))))
          (i64.store (local.get $a) (local.get $h))
          (i32.store offset=8 (local.get $a) (local.get $exp))
          (return (local.get $i))))
      (local.set $i (i32.and (i32.add (local.get $i) (i32.const 1)) (i32.const 16383)))
      (br $probe))
    (i32.const 0))
)
