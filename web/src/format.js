// format.js - tracemalloc's size format, as leaklab's ll_format_size prints it (src/report/format.c), to the digit.

// Veltkamp/Dekker: a * b as p + e exactly (no FMA in JS), to tell a true halfway case from
// one the multiplication made up.
function twoProduct(a, b) {
  const p = a * b;
  const split = (x) => {
    const c = 134217729 * x; // 2^27 + 1
    const hi = c - (c - x);
    return [hi, x - hi];
  };
  const [ah, al] = split(a);
  const [bh, bl] = split(b);
  const e = ((ah * bh - p) + ah * bl + al * bh) + al * bl;
  return [p, e];
}

// printf("%.*f", digits, x): glibc rounds the exact binary value, ties to even; toFixed breaks
// ties upwards, so exact ties are settled here.
export function fixed(x, digits) {
  const neg = x < 0 || Object.is(x, -0);
  const mag = Math.abs(x);
  const [p, e] = twoProduct(mag, digits === 0 ? 1 : 10 ** digits);
  let text;
  if (e === 0 && p - Math.floor(p) === 0.5 && Number.isSafeInteger(Math.floor(p))) {
    let n = Math.floor(p);
    if (n % 2 === 1) n += 1;
    const s = String(n).padStart(digits + 1, '0');
    text = digits === 0 ? s : s.slice(0, s.length - digits) + '.' + s.slice(s.length - digits);
  } else {
    text = mag.toFixed(digits);
  }
  return (neg ? '-' : '') + text;
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

// tracemalloc's _format_size: "%.1f" under 100 (never for B), "%.0f" under 10*1024 or at TiB.
export function formatSize(size, sign = false) {
  for (let i = 0; i < UNITS.length; i++) {
    const mag = Math.abs(size);
    if (mag < 100 && i !== 0) return signed(fixed(size, 1), sign) + ' ' + UNITS[i];
    if (mag < 10 * 1024 || i === UNITS.length - 1) return signed(fixed(size, 0), sign) + ' ' + UNITS[i];
    size /= 1024;
  }
  return '';
}

function signed(text, sign) {
  return sign && !text.startsWith('-') ? '+' + text : text;
}

// 1234567 -> "1,234,567": exact bytes where the rounded size is not enough.
export function groupDigits(n) {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

// tracemalloc's Statistic line: "file.c:12: size=124 B, count=3, average=41 B".
export function formatStat(file, line, size, count) {
  let s = `${file}:${line}: size=${formatSize(size)}, count=${count}`;
  if (count !== 0) s += `, average=${formatSize(size / count)}`;
  return s;
}
