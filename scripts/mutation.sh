#!/usr/bin/env bash
# Mutation testing with mutmut ([tool.mutmut] in pyproject.toml), one family of modules at a time: each mutant is run
# against the fast unit tests that reach the mutated function (never the e2e ones). By hand, not in CI (`make test`
# does not run it):
#
#   scripts/mutation.sh                  # the core modules: fmnist/atomic.py, records.py and schema.py
#   scripts/mutation.sh data classical   # the families named (any of core data features classical cnn)
#   scripts/mutation.sh fmnist/cnn/loop.py   # one module of a family, against that family's tests
#   JOBS=2 scripts/mutation.sh           # mutants run on two workers (default one: it shares the machine)
#   KEEP=1 scripts/mutation.sh           # keeps the work copy, to read a survivor there: `mutmut show NAME`
#   TESTS="tests/cnn/test_train.py" scripts/mutation.sh fmnist/cnn/train.py  # a module's run, these tests only
#                                        # (a mutant survives at its cost of the tests that reach it; re-run the
#                                        # survivors by name in a copy with the family's tests)
#   RUNNER=in-process JOBS=2 scripts/mutation.sh cnn   # the mutants run in JOBS pytest processes, not in one
#                                        # process each (tests/support/mutation_runner.py; a mutant still running
#                                        # after MUTATION_LIMIT seconds, default 120, is "unfinished", not killed)
#
# In a kept copy, `mutmut run NAME...` re-runs mutants by name (after copying newer tests into its tests/ and
# mutants/tests/); editing its [tool.mutmut] (the tests selected, the timeout) discards every result recorded there.
#
# It prints the survivors and the score of each module. It works in a copy of the checkout (its files that git tracks
# or would track, as they are now), in a temporary folder: mutmut writes its mutants/ folder beside pyproject.toml, so
# nothing lands in the checkout, and edits made meanwhile do not change the run. For families other than core alone it
# rewrites the copy's only_mutate and pytest_add_cli_args_test_selection from the table below. Needs mutmut
# (requirements-dev.txt; `make test` installs it).
#
# Measured on 2026-12-04, core: 120 s for the whole run (495 mutants, 490 killed; `nice -n 19`, one worker; 204 s on a
# busier machine) on an AMD EPYC (`lscpu | grep "Model name"`), 2 cores shared with other work. Survivors cost the most
# (each runs every test that reaches its function): with the 93 survivors of the tests at 45848c9 the same run took
# 820 s (1322 s on a busier machine). The 5 survivors left are equivalent mutants: the same behaviour whatever the
# input. mutmut hands a mutant's tests to pytest in no set order and stops at the first failure: tests/conftest.py
# runs them fastest first (tests/support/mutation_order.py). A rough figure (different mutants before and after):
# the cnn family's run went from 2.4 mutants a minute in the 5 minutes before to 15 in the 2 minutes after
# (2026-12-05, AMD EPYC with AVX2 only, two workers).
#
# Equivalent survivors (judged by reading the code; mutmut numbers a function's mutants anew when it changes):
#   fmnist.atomic.x__current_umask__mutmut_3        os.umask(1), not 0, while reading the mask: it is put back all the
#                                                   same and the same value returned
#   fmnist.atomic.xǁStagedOutputsǁsave_npy__mutmut_10  allow_pickle=None: numpy tests `not allow_pickle`, None as False
#   fmnist.atomic.x_load_npy__mutmut_3              allow_pickle=None: the same test in np.load
#   fmnist.atomic.x_load_npy__mutmut_6              allow_pickle left out: np.load's default is already False
#   fmnist.schema.x_Float__mutmut_10                integer=False left out: Number's default is already False
#   fmnist.data.dataset.xǁDatasetǁfit_indices__mutmut_3, _5  the mask's dtype None or left out (float, not bool):
#                                                   np.flatnonzero finds the same entries
#   fmnist.data.dataset.xǁDatasetǁfit_indices__mutmut_6  mask[...] = None: None stored in a bool array is False
#   fmnist.data.dataset.x_check_agreement__mutmut_25  kind in "XXiuXX": no numpy dtype kind is "X"
#   fmnist.data.idx.x_parse_idx__mutmut_31, _33     np.prod's dtype None or left out: numpy's default integer is int64
#   fmnist.data.download.x__inflate__mutmut_6, _7, _8, _32, _33, _34  the text of _inflate's BadGzipFile and
#                                                   EOFError: its one caller, verify_payload, raises its own message
#   fmnist.data.download.x__inflate__mutmut_12      wbits 17 + 15 = 32, gzip or zlib by the header: only streams that
#                                                   start with gzip's magic get there, read as gzip alike
#   fmnist.data.download.x_verify_payload__mutmut_9  inflating to the size + 2, not + 1: one byte past the size is
#                                                   already "decompresses to more than"
#   fmnist.data.download.xǁ_Deadlineǁ__init____mutmut_5  _expired = None, not False: only its truth is read
#   fmnist.data.download.xǁ_Deadlineǁ__init____mutmut_13, _14  the timer not a daemon: __exit__ cancels it on every
#                                                   way out of the block, so it never outlives the attempt
#   fmnist.data.download.xǁ_Deadlineǁpassed__mutmut_1  `>`, not `>=`: differs only at the very instant of the end
#   fmnist.data.download.xǁ_DeadlineHandlerǁdo_open__mutmut_9  create(*a) without **kw: http.client passes
#                                                   _create_connection positional arguments only
#   fmnist.data.download.xǁ_DeadlineHandlerǁdo_open__mutmut_14  without http_conn_args: those are HTTPS's context
#                                                   and check_hostname, None here, the connection's own defaults
#   fmnist.data.download.x__announced_length__mutmut_4, _5  "content-length" in other cases: HTTP header names
#                                                   match whatever their case
#   fmnist.data.download.x__read_response__mutmut_43, _45  read1 asked for more than limit + 1 - received: it
#                                                   returns what has come all the same, and the refusal comes at the
#                                                   same count with the same error (at most one 64 KiB read later)
#   fmnist.classical.workers.x_scheduler_deadline__mutmut_5, _10  parse_timedelta's unit left out or "S": its
#                                                   default is seconds, and it lower-cases the unit
#   fmnist.classical.classify.x_predict_side_by_side__mutmut_5  a pool of the default size for n_jobs chunks: no more
#                                                   than n_jobs of them run at a time all the same
#   fmnist.classical.classify.x_tune_and_fit__mutmut_101  "always" for every warning, not only ConvergenceWarning,
#                                                   while the refit records them: only ConvergenceWarning is read
#   fmnist.classical.models.x_check_grids__mutmut_3, x_check_grid__mutmut_7, _52, _74  the seed None: check_grid
#                                                   builds pipelines only to validate their settings, which no seed
#                                                   changes
#   fmnist.classical.models.x_check_grid__mutmut_12, _14  get_params(deep=None or True): no default setting of a
#                                                   zoo classifier is an estimator, so there is nothing deeper
#   fmnist.classical.models.x_check_grid__mutmut_51, _59, _60, _61  the width None or 2, or the `pca` entry kept:
#                                                   a pca step may be set, but only the classifier's settings are
#                                                   validated
#   fmnist.classical.models.x_check_grid__mutmut_67, _70, _71  zip(strict=None/False/left out): the keys and each
#                                                   combination of their values have the same length
#   fmnist.classical.models.x_svm__mutmut_4, _5  SVC's cache_size left at its default or 1001: the kernel cache's size
#                                                   changes the speed of a fit, never its result
#   fmnist.classical.models.x_pipeline_grid__mutmut_23  list values left lists, not tuples: GridSearchCV and the
#                                                   classifiers' checks take either, and readable_params gives lists
#   fmnist.classical.gridsearch.x_stratified_subset__mutmut_3  `>`, not `>=`: a size of every row draws every row,
#                                                   sorted, the same as np.arange
#   fmnist.classical.gridsearch.x_grid_search__mutmut_12, _13, _14  another prefix (or none) for the temporary
#                                                   folder of the search's cache: only its name changes
#   fmnist.classical.gridsearch.x_grid_search__mutmut_18, _26  scoring None or left out: a classifier pipeline's own
#                                                   score is accuracy
#   fmnist.classical.gridsearch.x_grid_search__mutmut_51  verbose=4, not 3: scikit-learn says more only above 9
#   fmnist.classical.gridsearch.x_grid_search__mutmut_79, _83, _90  zip(strict=None/left out/False): cv_results_'s
#                                                   columns have one entry per setting each
#   fmnist.classical.fit_limits.x_classify_fits__mutmut_11, _32, _44  the seed None for the subset, the folds or the
#                                                   refit's subset: a Fit holds counts, and a stratified draw takes the
#                                                   same count of each class whatever the seed
#   fmnist.features.hog.x_hog_features__mutmut_12, _13  block_norm="L2-Hys" or feature_vector=True left out:
#                                                   scikit-image's defaults already
#   fmnist.features.scattering.x_build_scattering__mutmut_34  frontend="TORCH": kymatio lower-cases the name
#   fmnist.features.scattering.x_to_input_size__mutmut_14, _18  align_corners None or left out: False for bilinear
#   fmnist.features.scattering.x_to_input_size__mutmut_23  `<=`, not `<`: an equal size has returned already
#   fmnist.features.scattering.x_to_input_size__mutmut_5, _6  the height, not the width: the images are square
#   fmnist.features.scattering.xǁComplexBackendǁsubsample_fourier__mutmut_18, _43  sum over the block axis for k = 2
#                                                   too: a sum of two terms, the same bits as the pairwise one
#   fmnist.features.scattering.xǁComplexBackendǁsubsample_fourier__mutmut_63, _64  another shape for the view
#                                                   that the final reshape undoes: the same values in the same order
#   fmnist.features.backbone.xǁGrayToBackboneInputǁ__init____mutmut_13, _32  the mean or std viewed as 3 x 1 x 1:
#                                                   against N x 1 x H x W images it broadcasts to the same N x 3 x H x W
#   fmnist.features.backbone.xǁGrayToBackboneInputǁforward__mutmut_4, _5  shape[1] or shape[-2] for shape[-1]: images
#                                                   are square, and a resize to the same size (bilinear or bicubic,
#                                                   align_corners False) gives back each pixel exactly
#   fmnist.features.backbone.xǁGrayToBackboneInputǁforward__mutmut_12, _16  align_corners None or left out: False
#   fmnist.features.backbone.x_build__mutmut_40, _42  pooled_stages None where the key is missing: read as 0
#   fmnist.features.backbone.x_build__mutmut_94  pooled_stages 1 where the key is missing (ResNet-18): a backbone
#                                                   without it exposes no block stages, so no pooled map is added
#   fmnist.features.extract.x_extract_into__mutmut_5, _7  the features not moved to the CPU: they are there on a CPU;
#                                                   on a GPU `.numpy()` would fail (no GPU to test it here)
#   fmnist.features.extract.x_extract_into__mutmut_6, _8  the float32 cast left out: every kind returns float32, and
#                                                   the float32 output array casts what it is given
#   fmnist.features.extract.x_extract_into__mutmut_47, _50, _55  zip(strict=None/False/left out): pool.map gives one
#                                                   result per batch start
#   fmnist.cnn.loop.x_train_one_epoch__mutmut_27, _33, _38  the progress bar's mininterval None, left out or 3:
#                                                   how often it redraws, not what it shows
#   fmnist.cnn.loop.x_train_one_epoch__mutmut_47, _49, _54, _64, _66  a batch not moved to the trainer's device (`.to(None)`,
#                                                   `.to()`, to_device(..., None)): it is there already on a CPU; on a
#                                                   GPU the step would fail (no GPU to test it here)
#   fmnist.cnn.loop.x_train_one_epoch__mutmut_50, _51, _67, _68  the copy to the device not asynchronous: the same
#                                                   values
#   fmnist.cnn.loop.x_train_one_epoch__mutmut_82, _83  zero_grad(set_to_none=None/False): every trainable tensor
#                                                   gets its gradient in each backward pass, so zeros and None give
#                                                   the same step
#   fmnist.cnn.loop.x_fit__mutmut_25, _27        the best epoch first 1, not 0, or the best accuracy first -2, not -1:
#                                                   epoch 1's accuracy (0 at least) beats either, and sets both
#   fmnist.cnn.loop.x_fit__mutmut_106, _108   the best state copied with .to(None) or .to() for .to("cpu"): a CPU
#                                                   tensor stays where it is (on a GPU it would stay there, the same
#                                                   values loaded back)
#   fmnist.cnn.loop.x_make_schedule__mutmut_11, _18  cycle_momentum None (read as False) or anneal_strategy left
#                                                   out (its default is "cos")
#   fmnist.cnn.loop.x_make_schedule__mutmut_46    the cosine's length max(2, ...): differs only where the cosine
#                                                   phase is one step long, in the rate after the last step (logged,
#                                                   never trained with)
#   fmnist.cnn.loop.x_batch_starts__mutmut_3, _17  `>=` for `>` (a set of one batch leaves no single image over) and
#                                                   `- 2` for `- 1` (the last start is below either end)
#   fmnist.cnn.loop.x_make_trainer__mutmut_1, _43 to _49  the net's device and the gradient scaler's switch: both
#                                                   matter on a GPU only (the scaler is on for CUDA float16 alone)
#   fmnist.cnn.loop.x_make_trainer__mutmut_4, _6  torch.compile skipped or given None where `compile` is set: no
#                                                   test compiles (minutes on a CPU); not equivalent, untested
#   fmnist.cnn.loop.x_train_one_epoch__mutmut_123, _124, _125  the progress bar's loss postfix None, not refreshed
#                                                   at once, or left out: the tiny epochs end before a redraw shows
#                                                   it; not equivalent (123, 125), untested
#   fmnist.cnn.curves.xǁLiveCurvesǁ__init____mutmut_8, _9  dvcyaml or save_dvc_exp None for False: dvclive reads
#                                                   both as truth values
#   fmnist.cnn.ema.xǁWeightAverageǁ__init____mutmut_18, _21, _22  zip(strict=None/False/left out): the average is a
#                                                   deep copy of the model, the same tensors in the same order
#   fmnist.cnn.nets.x_conv_bn_relu__mutmut_13, x_convnet_bn__mutmut_11, x_resnet9__mutmut_84  bias=None for
#                                                   bias=False: torch's layers test `if bias`, None as False
#   fmnist.cnn.nets.x_build_lenet5__mutmut_12, _14  batch_norm's default None or left out (None): read as a truth
#                                                   value, as False is
#   fmnist.cnn.ensemble.x_choose_members__mutmut_4  the best accuracy first -2, not -1: any accuracy (0 at least)
#                                                   beats either
#   fmnist.cnn.ensemble.x_softmax_outputs__mutmut_14  the net moved with .to(None): it is on the CPU already (on a
#                                                   GPU the scoring would fail; no GPU to test it here)
#   fmnist.cnn.ensemble.x_candidate__mutmut_10      finetune_recipe(None, ...): the run's name only names the params
#                                                   keys of its learning rate in training's messages, and the
#                                                   ensemble trains nothing
#   fmnist.cnn.augment.x_random_crop__mutmut_14, _28  randint(2 * padding + 1, ...) without the 0: torch's low
#                                                   defaults to 0
#   fmnist.cnn.augment.x_random_crop__mutmut_43, _45, _46  an index left where `.to(None)` puts it, on the CPU: the
#                                                   images are there too (on a GPU indexing would fail)
#   fmnist.cnn.augment.x_random_flip__mutmut_2     the flags left where `.to(None)` puts them, on the CPU, as above
#   fmnist.cnn.sweep.x_run_sweep__mutmut_8         effective_recipe(None, ...): the arch only names the params keys
#                                                   of the learning rate, which run_sweep takes from
#                                                   arch_learning_rate itself
#   fmnist.cnn.ensemble.x_load_checkpoint__mutmut_4, _7  map_location None or left out: a checkpoint saved on the
#                                                   CPU loads there anyway (one saved on a GPU would not; no GPU here)
#   fmnist.cnn.recipes.x_effective_recipe__mutmut_3, _5  settings.get("recipe", None) or without a default: the
#                                                   schema requires every arch's `recipe` (`missing key`), so the
#                                                   default is never taken
#   fmnist.cnn.curves.xǁLiveCurvesǁ__init____mutmut_11, _15  dvcyaml left at "dvc.yaml" or True: dvclive writes it
#                                                   in next_step() and end() alone, which LiveCurves never calls (it
#                                                   sets the step itself)
#   fmnist.cnn.curves.xǁLiveCurvesǁ__init____mutmut_13  report left out: dvclive's default is None already
#   fmnist.cnn.augment.x_random_flip__mutmut_8     `<= 0.5`, not `< 0.5`: differs only where a float32 draw is exactly
#                                                   0.5 (one in 2**24)
#   fmnist.cnn.augment.xǁImageNetInputǁtrain__mutmut_15  shape[-2] for shape[-1]: the images are square
#   fmnist.cnn.augment.xǁImageNetInputǁtrain__mutmut_17, _normalise__mutmut_11, _13, _28, _30  the boxes, mean or std
#                                                   left on the CPU (`.to(None)`, device None): the images are there too
#   fmnist.cnn.augment.xǁImageNetInputǁtrain__mutmut_23, _25  the image numbers as int64: torch.cat promotes them to
#                                                   the boxes' float32
#   fmnist.cnn.augment.xǁImageNetInputǁtrain__mutmut_37  spatial_scale left out: roi_align's default is 1.0
#   fmnist.cnn.augment.xǁImageNetInputǁtrain__mutmut_47, _51, eval__mutmut_5, _9  align_corners None or left out:
#                                                   False for bilinear
#   fmnist.cnn.augment.xǁImageNetInputǁ_normalise__mutmut_6, _23  the mean or std viewed as 3 x 1 x 1: it broadcasts
#                                                   against N x 3 x H x W to the same result
#   fmnist.cnn.inference.x_to_device__mutmut_2, _4, _5, _6  the batch not moved (`.to(None)`, `.to()`) or moved
#                                                   synchronously: on a CPU it is there already, the same values
#   fmnist.cnn.recipes.x_training_indices__mutmut_9, _10, _11  a default of 2.0, or `<= 1.0` / `< 2.0`: a stratified
#                                                   share of 1.0 is every index, sorted, the split itself
#   fmnist.cnn.augment.x_random_erase__mutmut_9    `<= probability`: differs only where a float32 draw equals it
#   fmnist.cnn.augment.x_random_erase__mutmut_38, _39, _41, _44, _46, _47, _49, _52  a side's clamp without its
#                                                   bounds, or from 2: the smallest share and ratio give sides of 2 px
#                                                   at least (28 px images and up), and a side past the image's starts
#                                                   at or above its first row or column, so it covers every one, as
#                                                   the clipped side does
#   fmnist.cnn.augment.x_random_erase__mutmut_87   the mask left on the CPU (`.to(None)`): the images are there too
#   fmnist.cnn.recipes.x_input_pipeline__mutmut_3, _5, _8  settings.get("augment", ...) with another default: the
#                                                   schema requires `augment` of every arch and fine-tune run
#   fmnist.cnn.recipes.x_learning_rate__mutmut_3, _5  settings.get("recipe", None) or without a default: the schema
#                                                   requires the `recipe` of every arch and fine-tune run
#   fmnist.cnn.train.x_train_and_record__mutmut_17, _20  map_location None or left out: the checkpoint was saved
#                                                   from the CPU (on a GPU it would load back there)
#   fmnist.cnn.train.x_train_and_record__mutmut_25  the scored net left where `.to(None)` puts it, on the CPU
#   fmnist.cnn.train.x_member_summaries__mutmut_8, _11, _12  zip(strict=None/False/left out): a boosted ensemble
#                                                   has one fit per member
#   fmnist.cnn.finetune.x_fit_frozen__mutmut_3     the backbone left where `.to(None)` puts it, on the CPU (on a GPU
#                                                   its features would fail; no GPU to test it here)
#   fmnist.cnn.train.x_skeleton__mutmut_3           `weights: random` given to a small net too: its builder reads no
#                                                   `weights`
#   fmnist.cnn.finetune.xǁCachedViewsǁtrain__mutmut_6, _14, _16  the view or row numbers left on the CPU: the cache
#                                                   is there too
#   fmnist.cnn.finetune.xǁCachedViewsǁtrain__mutmut_11  `<= 0.5`: differs only where a float32 draw is exactly 0.5
#   fmnist.cnn.train.x_train_architecture__mutmut_2, fmnist.cnn.ensemble.x_candidate__mutmut_46  effective_recipe(None,
#                                                   ...): as run_sweep's, the arch only names the params keys of the
#                                                   learning rate in messages, and a Recipe keeps only its value
#   fmnist.cnn.finetune.x_finetune_recipe__mutmut_2, x_train_finetune__mutmut_3  the run's name None: the same, for
#                                                   finetune_learning_rate and finetune_recipe
#   fmnist.cnn.train.x_train_architecture__mutmut_100  the ImageNet setting read for every arch: the schema gives a
#                                                   small net none of IMAGENET_SETTINGS' keys, so its setting stays {}
#   fmnist.cnn.depthwise.x_output_size__mutmut_2  `/` for `//`: an integer kernel is wider than floor(n / s) + 1
#                                                   exactly when it is wider than n / s + 1
#   fmnist.cnn.depthwise.x_takes_taps__mutmut_35, _43, _47  zip(strict=None/left out/False): two sizes each side
#   fmnist.cnn.depthwise.x_takes_taps__mutmut_40, _41, x_tap_weight_grad__mutmut_10, _20, _33  `[+2:]`/`[+2]` for
#                                                   `[-2:]`/`[-2]`: the tensors are 4-d, so the same entries
#   fmnist.cnn.depthwise.x_tap_weight_grad__mutmut_15, _18  the gradient made on the default device: taps run on the
#                                                   CPU alone
#   fmnist.cnn.depthwise.xǁTapWeightGradǁbackward__mutmut_3, _18, _19  the input gradient computed when the weight's is
#                                                   asked (only the weight's can be asked without it: taps need a
#                                                   trained weight; autograd drops the rest), or oneDNN's mask asking
#                                                   for the weight's or bias's gradient too: only slower
# The whole script in one block, which bash reads before it runs any of it: the list above grows while runs are
# under way, and bash would otherwise go on reading the edited file at the old run's offset.
{
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${VENV:-$PWD/.venv}/bin
[[ -x $bin/mutmut ]] || { echo "mutmut is not installed in $bin: pip install -r requirements-dev.txt" >&2; exit 1; }

# The families: the modules mutated (only_mutate globs) and the fast tests that reach them. core is what
# pyproject.toml names; tests/test_params.py reaches the split helpers of data and classical.
declare -A family_modules=(
  [data]="fmnist/data/*.py"
  [features]="fmnist/features/*.py"
  [classical]="fmnist/classical/*.py"
  [cnn]="fmnist/cnn/*.py"
)
declare -A family_tests=(
  [data]="tests/data/ tests/test_params.py"
  [features]="tests/features/"
  [classical]="tests/classical/ tests/test_params.py"
  [cnn]="tests/cnn/"
)
families=("${@:-core}")
with_core=0 modules="" tests=""
for family in "${families[@]}"; do
  if [[ $family == core ]]; then
    with_core=1
  elif [[ -n ${family_modules[$family]:-} ]]; then
    modules+=" ${family_modules[$family]}" tests+=" ${family_tests[$family]}"
  elif [[ $family == fmnist/*/*.py && -f $family && -n ${family_tests[$(basename "$(dirname "$family")")]:-} ]]; then
    modules+=" $family" tests+=" ${family_tests[$(basename "$(dirname "$family")")]}"
  else
    echo "unknown family '$family': name any of core ${!family_modules[*]}, or one of their modules" >&2
    exit 2
  fi
done
tests=${TESTS:-$tests}

work=$(mktemp -d "${TMPDIR:-/tmp}/fmnist-mutation.XXXXXX")
if [[ -z ${KEEP:-} ]]; then
  trap 'rm -rf "$work"' EXIT
fi
git ls-files -z --cached --others --exclude-standard |
  while IFS= read -r -d '' file; do if [[ -e $file ]]; then printf '%s\0' "$file"; fi; done |  # not deleted ones
  xargs -0 cp --parents -t "$work"

cd "$work"
if [[ -n $modules ]]; then  # the copy's [tool.mutmut] lists become the families' (core's kept where it is named)
  "$bin/python" - "$with_core" "$modules" "$tests" <<'PYTHON'
import json, re, sys, tomllib
from pathlib import Path

with_core, modules, tests = sys.argv[1] == "1", sys.argv[2].split(), sys.argv[3].split()
pyproject = Path("pyproject.toml")
text = pyproject.read_text()
core = tomllib.loads(text)["tool"]["mutmut"]
for key, values in (("only_mutate", modules), ("pytest_add_cli_args_test_selection", tests)):
    values = list(dict.fromkeys((core[key] if with_core else []) + values))
    text, found = re.subn(rf"^{key} = \[.*?\]", f"{key} = {json.dumps(values)}", text, count=1, flags=re.M | re.S)
    assert found == 1, f"{key} is not in pyproject.toml's [tool.mutmut]"
pyproject.write_text(text)
PYTHON
fi
start=$SECONDS
if [[ ${RUNNER:-mutmut} == in-process ]]; then
  # mutmut makes the mutants and records which tests reach each function, then stops: no mutant has the name
  # "none"; tests/support/mutation_runner.py runs them, JOBS processes taking every JOBS-th name.
  nice -n 19 "$bin/mutmut" run none >mutmut-run.log 2>&1 || grep -q "nothing matches" mutmut-run.log || {
    tail -c 4000 mutmut-run.log >&2
    exit 1
  }
  "$bin/mutmut" results --all true | sed 's/^ *//; s/: .*//' >names.txt
  selection=$("$bin/python" -c 'import tomllib
print(*tomllib.load(open("pyproject.toml", "rb"))["tool"]["mutmut"]["pytest_add_cli_args_test_selection"])')
  for ((job = 0; job < ${JOBS:-1}; job++)); do
    awk -v jobs="${JOBS:-1}" -v job=$job 'NR % jobs == job' names.txt >"names.$job.txt"
    touch "results.$job.txt"
    (cd mutants
      # A worker stops after a suspect or unfinished mutant: it starts again (resuming) while each start adds results.
      while
        before=$(wc -l <"../results.$job.txt")
        MUTATION_NAMES=../names.$job.txt MUTATION_RESULTS=../results.$job.txt MUTANT_UNDER_TEST= \
          nice -n 19 "$bin/python" -m pytest -p tests.support.mutation_runner -q -p no:cacheprovider -m "not e2e" \
          $selection >>"../runner.$job.log" 2>&1
        after=$(wc -l <"../results.$job.txt")
        ((after > before && after < $(wc -l <"../names.$job.txt")))
      do :; done) &
  done
  wait
  cat results.*.txt >results.txt
elif [[ ${RUNNER:-mutmut} == mutmut ]]; then
  nice -n 19 "$bin/mutmut" run --max-children "${JOBS:-1}" >mutmut-run.log 2>&1 || {
    tail -c 4000 mutmut-run.log >&2
    exit 1
  }
  "$bin/mutmut" results --all true >results.txt
else
  echo "unknown RUNNER '$RUNNER': name mutmut (the default) or in-process" >&2
  exit 2
fi
echo "mutmut ran for $((SECONDS - start)) s on ${families[*]} in $work;" \
  "survivors (\`mutmut show NAME\` there, with KEEP=1):"
grep -v -E ': (killed|timeout)$' results.txt || echo "    none"
# A mutant counts as killed when a test failed or timed out on it; "survived" and "no tests" are not. Its name is the
# module's dotted path, then the function's.
awk -F': ' '{ sub(/^ +/, "", $1); n = split($1, part, "."); module = part[1]
             for (i = 2; i < n; i++) module = module "/" part[i]
             module = module ".py"; total[module]++; if ($2 == "killed" || $2 == "timeout") killed[module]++ }
     END { for (m in total) printf "%-32s %4d/%-4d killed (%.1f %%)\n", m, killed[m], total[m],
                                   100 * killed[m] / total[m] }' \
  results.txt | sort
exit
}
