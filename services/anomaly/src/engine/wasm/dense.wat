;; The dense scoring kernel (k = d > 5) and the tree builder's dense scans, WebAssembly SIMD. Source of
;; the bytes in ../dense-wasm.ts (regenerate with `npm run generate:wasm`; a unit test checks they match).
;;
;; Memory layout (byte offsets passed in): treeStart i32[ntrees + 1], right i32[nodes], value f64[nodes],
;; coef f64[nodes × dp] (each node's normal zero-padded to dp, a multiple of 8), x f64[nb × dp] (rows
;; zero-padded likewise), acc f64[nb].
;;
;; The dot product over dp columns keeps eight partial sums, s_m = Σ x_j·c_j over j ≡ m (mod 8), in four
;; f64x2 accumulators (a0 = s0,s1; a1 = s2,s3; a2 = s4,s5; a3 = s6,s7), then adds them as
;; ((s0 + s2) + (s4 + s6)) + ((s1 + s3) + (s5 + s7)). kernels.ts `blockedDot` is the same sum in the same
;; order, which the tree builder uses, so a training point takes the same side when scored.
(module
  (memory (export "memory") 1)
  (func (export "walk")
    (param $treeStart i32) (param $right i32) (param $value i32) (param $coef i32) (param $dp i32)
    (param $x i32) (param $nb i32) (param $acc i32) (param $t0 i32) (param $t1 i32)
    (local $t i32) (local $root i32) (local $r i32) (local $n i32) (local $rc i32)
    (local $xp i32) (local $cp i32) (local $end i32) (local $rowBytes i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $s v128)
    (local $dot f64)
    (local.set $rowBytes (i32.shl (local.get $dp) (i32.const 3)))
    (local.set $t (local.get $t0))
    (block $treesDone
      (loop $trees
        (br_if $treesDone (i32.ge_u (local.get $t) (local.get $t1)))
        (local.set $root
          (i32.load (i32.add (local.get $treeStart) (i32.shl (local.get $t) (i32.const 2)))))
        (local.set $r (i32.const 0))
        (block $rowsDone
          (loop $rows
            (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $nb)))
            (local.set $xp (i32.add (local.get $x) (i32.mul (local.get $r) (local.get $rowBytes))))
            (local.set $n (local.get $root))
            (local.set $rc
              (i32.load (i32.add (local.get $right) (i32.shl (local.get $n) (i32.const 2)))))
            (block $leaf
              (loop $walk
                (br_if $leaf (i32.lt_s (local.get $rc) (i32.const 0)))
                (local.set $cp (i32.add (local.get $coef) (i32.mul (local.get $n) (local.get $rowBytes))))
                (local.set $end (i32.add (local.get $cp) (local.get $rowBytes)))
                (local.set $a0 (v128.const i64x2 0 0))
                (local.set $a1 (v128.const i64x2 0 0))
                (local.set $a2 (v128.const i64x2 0 0))
                (local.set $a3 (v128.const i64x2 0 0))
                (loop $terms
                  (local.set $a0 (f64x2.add (local.get $a0)
                    (f64x2.mul (v128.load (local.get $xp)) (v128.load (local.get $cp)))))
                  (local.set $a1 (f64x2.add (local.get $a1)
                    (f64x2.mul (v128.load offset=16 (local.get $xp)) (v128.load offset=16 (local.get $cp)))))
                  (local.set $a2 (f64x2.add (local.get $a2)
                    (f64x2.mul (v128.load offset=32 (local.get $xp)) (v128.load offset=32 (local.get $cp)))))
                  (local.set $a3 (f64x2.add (local.get $a3)
                    (f64x2.mul (v128.load offset=48 (local.get $xp)) (v128.load offset=48 (local.get $cp)))))
                  (local.set $xp (i32.add (local.get $xp) (i32.const 64)))
                  (local.set $cp (i32.add (local.get $cp) (i32.const 64)))
                  (br_if $terms (i32.lt_u (local.get $cp) (local.get $end))))
                (local.set $xp (i32.sub (local.get $xp) (local.get $rowBytes)))
                (local.set $s (f64x2.add (f64x2.add (local.get $a0) (local.get $a1))
                                         (f64x2.add (local.get $a2) (local.get $a3))))
                (local.set $dot (f64.add (f64x2.extract_lane 0 (local.get $s))
                                         (f64x2.extract_lane 1 (local.get $s))))
                ;; Left child n + 1 iff dot < value[n] (NaN goes right, as in the builder).
                (local.set $n
                  (select (i32.add (local.get $n) (i32.const 1)) (local.get $rc)
                    (f64.lt (local.get $dot)
                      (f64.load (i32.add (local.get $value) (i32.shl (local.get $n) (i32.const 3)))))))
                (local.set $rc
                  (i32.load (i32.add (local.get $right) (i32.shl (local.get $n) (i32.const 2)))))
                (br $walk)))
            (f64.store
              (i32.add (local.get $acc) (i32.shl (local.get $r) (i32.const 3)))
              (f64.add
                (f64.load (i32.add (local.get $acc) (i32.shl (local.get $r) (i32.const 3))))
                (f64.load (i32.add (local.get $value) (i32.shl (local.get $n) (i32.const 3))))))
            (local.set $r (i32.add (local.get $r) (i32.const 1)))
            (br $rows)))
        (local.set $t (i32.add (local.get $t) (i32.const 1)))
        (br $trees))))

  ;; The tree builder's two scans over a node's rows (tree.ts, dense k = d > 5). The sample z is row-major,
  ;; each row zero-padded to rowBytes (a multiple of 64); idx i32[ψ] lists the sample rows, a node owning
  ;; idx[from, to).
  ;;
  ;; bbox: lo[c], hi[c] = min, max of column c over the node's rows, eight columns per pass (four f64x2
  ;; minima, four maxima). pmin/pmax are "b < a ? b : a" / "a < b ? b : a", the selects the JS scan used,
  ;; so the box is bit-identical (including which zero is kept). Needs from < to.
  (func (export "bbox")
    (param $z i32) (param $rowBytes i32) (param $idx i32) (param $from i32) (param $to i32)
    (param $lo i32) (param $hi i32)
    (local $c i32) (local $i i32) (local $end i32) (local $p i32)
    (local $l0 v128) (local $l1 v128) (local $l2 v128) (local $l3 v128)
    (local $h0 v128) (local $h1 v128) (local $h2 v128) (local $h3 v128) (local $v v128)
    (local.set $end (i32.add (local.get $idx) (i32.shl (local.get $to) (i32.const 2))))
    (local.set $c (i32.const 0))
    (loop $cols
      (local.set $l0 (f64x2.splat (f64.const inf)))
      (local.set $l1 (local.get $l0))
      (local.set $l2 (local.get $l0))
      (local.set $l3 (local.get $l0))
      (local.set $h0 (f64x2.splat (f64.const -inf)))
      (local.set $h1 (local.get $h0))
      (local.set $h2 (local.get $h0))
      (local.set $h3 (local.get $h0))
      (local.set $i (i32.add (local.get $idx) (i32.shl (local.get $from) (i32.const 2))))
      (loop $rows
        (local.set $p (i32.add (i32.add (local.get $z) (local.get $c))
          (i32.mul (i32.load (local.get $i)) (local.get $rowBytes))))
        (local.set $v (v128.load (local.get $p)))
        (local.set $l0 (f64x2.pmin (local.get $l0) (local.get $v)))
        (local.set $h0 (f64x2.pmax (local.get $h0) (local.get $v)))
        (local.set $v (v128.load offset=16 (local.get $p)))
        (local.set $l1 (f64x2.pmin (local.get $l1) (local.get $v)))
        (local.set $h1 (f64x2.pmax (local.get $h1) (local.get $v)))
        (local.set $v (v128.load offset=32 (local.get $p)))
        (local.set $l2 (f64x2.pmin (local.get $l2) (local.get $v)))
        (local.set $h2 (f64x2.pmax (local.get $h2) (local.get $v)))
        (local.set $v (v128.load offset=48 (local.get $p)))
        (local.set $l3 (f64x2.pmin (local.get $l3) (local.get $v)))
        (local.set $h3 (f64x2.pmax (local.get $h3) (local.get $v)))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br_if $rows (i32.lt_u (local.get $i) (local.get $end))))
      (local.set $p (i32.add (local.get $lo) (local.get $c)))
      (v128.store (local.get $p) (local.get $l0))
      (v128.store offset=16 (local.get $p) (local.get $l1))
      (v128.store offset=32 (local.get $p) (local.get $l2))
      (v128.store offset=48 (local.get $p) (local.get $l3))
      (local.set $p (i32.add (local.get $hi) (local.get $c)))
      (v128.store (local.get $p) (local.get $h0))
      (v128.store offset=16 (local.get $p) (local.get $h1))
      (v128.store offset=32 (local.get $p) (local.get $h2))
      (v128.store offset=48 (local.get $p) (local.get $h3))
      (local.set $c (i32.add (local.get $c) (i32.const 64)))
      (br_if $cols (i32.lt_u (local.get $c) (local.get $rowBytes)))))

  ;; partition: reorders idx[from, to) so rows with x·coef < pn come first and returns the split position;
  ;; the same swap sequence as the JS loop, and x·coef is the walk's blocked sum (coef zero-padded to
  ;; rowBytes), so a training point takes the same side when it is scored.
  (func (export "partition")
    (param $z i32) (param $rowBytes i32) (param $idx i32) (param $from i32) (param $to i32)
    (param $coef i32) (param $pn f64) (result i32)
    (local $i i32) (local $j i32) (local $pi i32) (local $pj i32) (local $t i32)
    (local $xp i32) (local $cp i32) (local $end i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $s v128)
    (local.set $i (local.get $from))
    (local.set $j (i32.sub (local.get $to) (i32.const 1)))
    (local.set $end (i32.add (local.get $coef) (local.get $rowBytes)))
    (block $done
      (loop $rows
        (br_if $done (i32.gt_s (local.get $i) (local.get $j)))
        (local.set $pi (i32.add (local.get $idx) (i32.shl (local.get $i) (i32.const 2))))
        (local.set $xp (i32.add (local.get $z) (i32.mul (i32.load (local.get $pi)) (local.get $rowBytes))))
        (local.set $cp (local.get $coef))
        (local.set $a0 (v128.const i64x2 0 0))
        (local.set $a1 (v128.const i64x2 0 0))
        (local.set $a2 (v128.const i64x2 0 0))
        (local.set $a3 (v128.const i64x2 0 0))
        (loop $terms
          (local.set $a0 (f64x2.add (local.get $a0)
            (f64x2.mul (v128.load (local.get $xp)) (v128.load (local.get $cp)))))
          (local.set $a1 (f64x2.add (local.get $a1)
            (f64x2.mul (v128.load offset=16 (local.get $xp)) (v128.load offset=16 (local.get $cp)))))
          (local.set $a2 (f64x2.add (local.get $a2)
            (f64x2.mul (v128.load offset=32 (local.get $xp)) (v128.load offset=32 (local.get $cp)))))
          (local.set $a3 (f64x2.add (local.get $a3)
            (f64x2.mul (v128.load offset=48 (local.get $xp)) (v128.load offset=48 (local.get $cp)))))
          (local.set $xp (i32.add (local.get $xp) (i32.const 64)))
          (local.set $cp (i32.add (local.get $cp) (i32.const 64)))
          (br_if $terms (i32.lt_u (local.get $cp) (local.get $end))))
        (local.set $s (f64x2.add (f64x2.add (local.get $a0) (local.get $a1))
                                 (f64x2.add (local.get $a2) (local.get $a3))))
        (if (f64.lt (f64.add (f64x2.extract_lane 0 (local.get $s)) (f64x2.extract_lane 1 (local.get $s)))
                    (local.get $pn))
          (then (local.set $i (i32.add (local.get $i) (i32.const 1))))
          (else
            (local.set $pj (i32.add (local.get $idx) (i32.shl (local.get $j) (i32.const 2))))
            (local.set $t (i32.load (local.get $pi)))
            (i32.store (local.get $pi) (i32.load (local.get $pj)))
            (i32.store (local.get $pj) (local.get $t))
            (local.set $j (i32.sub (local.get $j) (i32.const 1)))))
        (br $rows)))
    (local.get $i))

  ;; standardize: z row r ← (z row r − mean) / std for rows 0 … rows − 1, two columns per f64x2 op (the
  ;; same IEEE operations as the JS expression, so the same bits); mean and std are padded with 0 and 1 so
  ;; the zero padding stays zero. Returns 1 when every value is finite, else 0 (x − x is NaN exactly then).
  (func (export "standardize")
    (param $z i32) (param $rowBytes i32) (param $rows i32) (param $mean i32) (param $std i32) (result i32)
    (local $p i32) (local $end i32) (local $c i32) (local $v v128) (local $bad v128)
    (local.set $p (local.get $z))
    (local.set $end (i32.add (local.get $z) (i32.mul (local.get $rows) (local.get $rowBytes))))
    (local.set $bad (v128.const i64x2 0 0))
    (block $done
      (loop $rowsLoop
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $c (i32.const 0))
        (loop $cols
          (local.set $v (f64x2.div
            (f64x2.sub (v128.load (i32.add (local.get $p) (local.get $c)))
                       (v128.load (i32.add (local.get $mean) (local.get $c))))
            (v128.load (i32.add (local.get $std) (local.get $c)))))
          (v128.store (i32.add (local.get $p) (local.get $c)) (local.get $v))
          (local.set $bad (f64x2.add (local.get $bad) (f64x2.sub (local.get $v) (local.get $v))))
          (local.set $c (i32.add (local.get $c) (i32.const 16)))
          (br_if $cols (i32.lt_u (local.get $c) (local.get $rowBytes))))
        (local.set $p (i32.add (local.get $p) (local.get $rowBytes)))
        (br $rowsLoop)))
    (i32.and
      (f64.eq (f64x2.extract_lane 0 (local.get $bad)) (f64.const 0))
      (f64.eq (f64x2.extract_lane 1 (local.get $bad)) (f64.const 0))))

  ;; The axis-parallel scoring kernel (e = 0, k = 1). Nodes are 24-byte records laid out by simd.ts:
  ;; value f64 @0 (threshold, or the leaf's depth + c(size)), coef f64 @8 (±1, or the slope where the axis form
  ;; was not found), column byte offset i32 @16, right child i32 @20 as an absolute byte address (−1 = leaf);
  ;; the left child is the next record. roots i32[ntrees] holds each tree's root address; x is row-major,
  ;; rowBytes = 8·d. Go left iff x[col]·coef < value, the rule of the JS kernels (NaN goes right), so the
  ;; scores are the same bits. Four rows walk a tree in lockstep (independent load chains overlap) until
  ;; one reaches a leaf; each then finishes alone; the last nb mod 4 rows walk one at a time.
  (func (export "axis")
    (param $roots i32) (param $x i32) (param $rowBytes i32) (param $nb i32) (param $acc i32)
    (param $t0 i32) (param $t1 i32)
    (local $t i32) (local $root i32) (local $rootRight i32) (local $r i32) (local $p i32)
    (local $x0 i32) (local $n0 i32) (local $rc0 i32) (local $x1 i32) (local $n1 i32) (local $rc1 i32) (local $x2 i32) (local $n2 i32) (local $rc2 i32) (local $x3 i32) (local $n3 i32) (local $rc3 i32)
    (local.set $t (local.get $t0))
    (block $treesDone
      (loop $trees
        (br_if $treesDone (i32.ge_u (local.get $t) (local.get $t1)))
        (local.set $root (i32.load (i32.add (local.get $roots) (i32.shl (local.get $t) (i32.const 2)))))
        (local.set $rootRight (i32.load offset=20 (local.get $root)))
        (local.set $r (i32.const 0))
        (block $quadsDone
          (loop $quads
            (br_if $quadsDone (i32.gt_s (i32.add (local.get $r) (i32.const 4)) (local.get $nb)))
            (local.set $x0 (i32.add (local.get $x) (i32.mul (i32.add (local.get $r) (i32.const 0)) (local.get $rowBytes))))
            (local.set $n0 (local.get $root))
            (local.set $rc0 (local.get $rootRight))
            (local.set $x1 (i32.add (local.get $x) (i32.mul (i32.add (local.get $r) (i32.const 1)) (local.get $rowBytes))))
            (local.set $n1 (local.get $root))
            (local.set $rc1 (local.get $rootRight))
            (local.set $x2 (i32.add (local.get $x) (i32.mul (i32.add (local.get $r) (i32.const 2)) (local.get $rowBytes))))
            (local.set $n2 (local.get $root))
            (local.set $rc2 (local.get $rootRight))
            (local.set $x3 (i32.add (local.get $x) (i32.mul (i32.add (local.get $r) (i32.const 3)) (local.get $rowBytes))))
            (local.set $n3 (local.get $root))
            (local.set $rc3 (local.get $rootRight))
            (block $oneLeaf
              (loop $lockstep
                ;; Every rc ≥ 0 iff their bitwise or is ≥ 0.
                (br_if $oneLeaf (i32.lt_s (i32.or (i32.or (i32.or (local.get $rc0) (local.get $rc1)) (local.get $rc2)) (local.get $rc3)) (i32.const 0)))
                ;; lane 0: v = x[col]·coef, left iff v < value (the JS rule); left child n + 24, else rc.
                (local.set $n0
                  (select (i32.add (local.get $n0) (i32.const 24)) (local.get $rc0)
                    (f64.lt
                      (f64.mul (f64.load (i32.add (local.get $x0) (i32.load offset=16 (local.get $n0))))
                               (f64.load offset=8 (local.get $n0)))
                      (f64.load (local.get $n0)))))
                (local.set $rc0 (i32.load offset=20 (local.get $n0)))
                ;; lane 1: v = x[col]·coef, left iff v < value (the JS rule); left child n + 24, else rc.
                (local.set $n1
                  (select (i32.add (local.get $n1) (i32.const 24)) (local.get $rc1)
                    (f64.lt
                      (f64.mul (f64.load (i32.add (local.get $x1) (i32.load offset=16 (local.get $n1))))
                               (f64.load offset=8 (local.get $n1)))
                      (f64.load (local.get $n1)))))
                (local.set $rc1 (i32.load offset=20 (local.get $n1)))
                ;; lane 2: v = x[col]·coef, left iff v < value (the JS rule); left child n + 24, else rc.
                (local.set $n2
                  (select (i32.add (local.get $n2) (i32.const 24)) (local.get $rc2)
                    (f64.lt
                      (f64.mul (f64.load (i32.add (local.get $x2) (i32.load offset=16 (local.get $n2))))
                               (f64.load offset=8 (local.get $n2)))
                      (f64.load (local.get $n2)))))
                (local.set $rc2 (i32.load offset=20 (local.get $n2)))
                ;; lane 3: v = x[col]·coef, left iff v < value (the JS rule); left child n + 24, else rc.
                (local.set $n3
                  (select (i32.add (local.get $n3) (i32.const 24)) (local.get $rc3)
                    (f64.lt
                      (f64.mul (f64.load (i32.add (local.get $x3) (i32.load offset=16 (local.get $n3))))
                               (f64.load offset=8 (local.get $n3)))
                      (f64.load (local.get $n3)))))
                (local.set $rc3 (i32.load offset=20 (local.get $n3)))
                (br $lockstep)))
            (block $done0
              (loop $rest0
                (br_if $done0 (i32.lt_s (local.get $rc0) (i32.const 0)))
                ;; lane 0: v = x[col]·coef, left iff v < value (the JS rule); left child n + 24, else rc.
                (local.set $n0
                  (select (i32.add (local.get $n0) (i32.const 24)) (local.get $rc0)
                    (f64.lt
                      (f64.mul (f64.load (i32.add (local.get $x0) (i32.load offset=16 (local.get $n0))))
                               (f64.load offset=8 (local.get $n0)))
                      (f64.load (local.get $n0)))))
                (local.set $rc0 (i32.load offset=20 (local.get $n0)))
                (br $rest0)))
            (local.set $p (i32.add (local.get $acc) (i32.shl (i32.add (local.get $r) (i32.const 0)) (i32.const 3))))
            (f64.store (local.get $p) (f64.add (f64.load (local.get $p)) (f64.load (local.get $n0))))
            (block $done1
              (loop $rest1
                (br_if $done1 (i32.lt_s (local.get $rc1) (i32.const 0)))
                ;; lane 1: v = x[col]·coef, left iff v < value (the JS rule); left child n + 24, else rc.
                (local.set $n1
                  (select (i32.add (local.get $n1) (i32.const 24)) (local.get $rc1)
                    (f64.lt
                      (f64.mul (f64.load (i32.add (local.get $x1) (i32.load offset=16 (local.get $n1))))
                               (f64.load offset=8 (local.get $n1)))
                      (f64.load (local.get $n1)))))
                (local.set $rc1 (i32.load offset=20 (local.get $n1)))
                (br $rest1)))
            (local.set $p (i32.add (local.get $acc) (i32.shl (i32.add (local.get $r) (i32.const 1)) (i32.const 3))))
            (f64.store (local.get $p) (f64.add (f64.load (local.get $p)) (f64.load (local.get $n1))))
            (block $done2
              (loop $rest2
                (br_if $done2 (i32.lt_s (local.get $rc2) (i32.const 0)))
                ;; lane 2: v = x[col]·coef, left iff v < value (the JS rule); left child n + 24, else rc.
                (local.set $n2
                  (select (i32.add (local.get $n2) (i32.const 24)) (local.get $rc2)
                    (f64.lt
                      (f64.mul (f64.load (i32.add (local.get $x2) (i32.load offset=16 (local.get $n2))))
                               (f64.load offset=8 (local.get $n2)))
                      (f64.load (local.get $n2)))))
                (local.set $rc2 (i32.load offset=20 (local.get $n2)))
                (br $rest2)))
            (local.set $p (i32.add (local.get $acc) (i32.shl (i32.add (local.get $r) (i32.const 2)) (i32.const 3))))
            (f64.store (local.get $p) (f64.add (f64.load (local.get $p)) (f64.load (local.get $n2))))
            (block $done3
              (loop $rest3
                (br_if $done3 (i32.lt_s (local.get $rc3) (i32.const 0)))
                ;; lane 3: v = x[col]·coef, left iff v < value (the JS rule); left child n + 24, else rc.
                (local.set $n3
                  (select (i32.add (local.get $n3) (i32.const 24)) (local.get $rc3)
                    (f64.lt
                      (f64.mul (f64.load (i32.add (local.get $x3) (i32.load offset=16 (local.get $n3))))
                               (f64.load offset=8 (local.get $n3)))
                      (f64.load (local.get $n3)))))
                (local.set $rc3 (i32.load offset=20 (local.get $n3)))
                (br $rest3)))
            (local.set $p (i32.add (local.get $acc) (i32.shl (i32.add (local.get $r) (i32.const 3)) (i32.const 3))))
            (f64.store (local.get $p) (f64.add (f64.load (local.get $p)) (f64.load (local.get $n3))))
            (local.set $r (i32.add (local.get $r) (i32.const 4)))
            (br $quads)))
        (block $rowsDone
          (loop $rows
            (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $nb)))
            (local.set $x0 (i32.add (local.get $x) (i32.mul (local.get $r) (local.get $rowBytes))))
            (local.set $n0 (local.get $root))
            (local.set $rc0 (local.get $rootRight))
            (block $leaf
              (loop $walk
                (br_if $leaf (i32.lt_s (local.get $rc0) (i32.const 0)))
                ;; lane 0: v = x[col]·coef, left iff v < value (the JS rule); left child n + 24, else rc.
                (local.set $n0
                  (select (i32.add (local.get $n0) (i32.const 24)) (local.get $rc0)
                    (f64.lt
                      (f64.mul (f64.load (i32.add (local.get $x0) (i32.load offset=16 (local.get $n0))))
                               (f64.load offset=8 (local.get $n0)))
                      (f64.load (local.get $n0)))))
                (local.set $rc0 (i32.load offset=20 (local.get $n0)))
                (br $walk)))
            (local.set $p (i32.add (local.get $acc) (i32.shl (local.get $r) (i32.const 3))))
            (f64.store (local.get $p) (f64.add (f64.load (local.get $p)) (f64.load (local.get $n0))))
            (local.set $r (i32.add (local.get $r) (i32.const 1)))
            (br $rows)))
        (local.set $t (i32.add (local.get $t) (i32.const 1)))
        (br $trees))))
)
