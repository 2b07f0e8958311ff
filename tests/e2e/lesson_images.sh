#!/usr/bin/env bash
# lesson_images.sh - every picture a lesson's README shows is in the tree (tools/screenshots.sh --check), no picture lies unused in img/, and `leaklab explain` names each one with its description and the file to open.
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/lib.sh"

"$LL_SOURCE_DIR/tools/screenshots.sh" --check >"$tmp/check" 2>&1 || fail "missing pictures: $(cat "$tmp/check")"

export COLUMNS=200
shown=0
for lesson in $("$LEAKLAB" scenarios | awk '{ print $1 }'); do
  readme=$LL_SOURCE_DIR/scenarios/$lesson/README.md
  grep -o '!\[[^]]*\](img/[^)]*)' "$readme" | sort -u >"$tmp/named" || true
  for png in "$LL_SOURCE_DIR/scenarios/$lesson"/img/*.png; do
    [[ -e $png ]] || continue
    grep -q "](img/$(basename "$png"))" "$tmp/named" || fail "$lesson: img/$(basename "$png") is in the tree but no README shows it"
  done
  [[ -s $tmp/named ]] || continue
  "$LEAKLAB" explain "$lesson" >"$tmp/out" || { fail "$lesson: explain exited $?"; continue; }
  tr '\n' ' ' <"$tmp/out" | tr -s ' ' >"$tmp/flat"
  while IFS= read -r ref; do
    alt=${ref#'!['}
    alt=${alt%%'](img/'*}
    file=${ref##*'](img/'}
    file=${file%')'}
    # The description as the README gives it, then the file from the repository root.
    grep -qF "[picture: $(tr -s ' ' <<<"$alt"); open scenarios/$lesson/img/$file]" "$tmp/flat" ||
      fail "$lesson: explain does not show img/$file as '[picture: ...; open scenarios/$lesson/img/$file]'"
    [[ -s $LL_SOURCE_DIR/scenarios/$lesson/img/$file ]] || fail "$lesson: img/$file is missing"
    shown=$((shown + 1))
  done <"$tmp/named"
done
[[ $shown -gt 0 ]] || fail "no lesson shows a picture"
finish "lesson_images: $shown pictures, each in the tree and named by explain"
