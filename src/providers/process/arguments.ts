/**
 * The version's `arguments` field is one string (Edgegap's shape). It is split the way a POSIX
 * shell splits words, without running a shell: whitespace separates arguments, '...' keeps
 * everything literally, "..." keeps whitespace and honours \" and \\, and a backslash outside
 * quotes escapes the next character. A string starting with `[` is read as a JSON array of
 * strings instead, for arguments no quoting can express comfortably.
 */
export function splitArguments(text: string | undefined | null): string[] {
  if (text === undefined || text === null || text.trim() === '') return [];
  const trimmed = text.trim();
  if (trimmed.startsWith('[')) {
    const parsed: unknown = JSON.parse(trimmed);
    if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === 'string'))
      throw new Error('arguments as JSON must be an array of strings');
    return parsed as string[];
  }
  const words: string[] = [];
  let current = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote === "'") {
      if (c === "'") quote = null;
      else current += c;
    } else if (quote === '"') {
      if (c === '"') quote = null;
      else if (c === '\\' && (text[i + 1] === '"' || text[i + 1] === '\\')) current += text[++i];
      else current += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < text.length) {
      current += text[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(current);
      current = '';
      inWord = false;
    } else {
      current += c;
      inWord = true;
    }
  }
  if (quote) throw new Error(`arguments has an unclosed ${quote} quote`);
  if (inWord) words.push(current);
  return words;
}
