// The parts of a Markdown page a reader may copy: its fenced code blocks (with the marker comment
// on the line above, if any: `<!-- handler-example -->`, `<!-- sls-query: name -->`) and its
// inline code spans outside them.

export interface DocBlock {
  /** The fence's info string: `sh`, `json`, `text`… */
  lang: string;
  /** The block's text, its fence's indentation taken off every line. */
  text: string;
  /** The marker comment right above the fence, without `<!--`/`-->`. */
  marker?: string;
  /** 1-based line of the opening fence. */
  line: number;
}

export interface InlineSpan {
  /** The span's text, line breaks and runs of spaces as one space. */
  text: string;
  /** Wrapped in `**…**`: quoted output (a message, an error), not something to type. */
  bold: boolean;
  line: number;
}

const FENCE = /^( *)```(\w*)\n([\s\S]*?)^\1```[ \t]*$/gm;

export function fencedBlocks(markdown: string): DocBlock[] {
  return [...markdown.matchAll(FENCE)].map((m) => {
    const indent = m[1]!.length;
    const before = markdown.slice(0, m.index).replace(/\n$/, '');
    const marker = /<!-- ([^>]*?) -->$/.exec(before.slice(before.lastIndexOf('\n') + 1).trim())?.[1];
    return {
      lang: m[2]!,
      text: m[3]!.split('\n').map((l) => l.slice(Math.min(indent, l.length - l.trimStart().length))).join('\n'),
      ...(marker ? { marker } : {}),
      line: before.split('\n').length + 1,
    };
  });
}

/** The text of the one block under `<!-- marker -->`. */
export function markedBlock(markdown: string, marker: string): string {
  const found = fencedBlocks(markdown).filter((b) => b.marker === marker);
  if (found.length !== 1) throw new Error(`expected one block under <!-- ${marker} -->, found ${found.length}`);
  return found[0]!.text;
}

export function inlineSpans(markdown: string): InlineSpan[] {
  // Fences blanked out line for line, so that line numbers still hold.
  const prose = markdown.replace(FENCE, (block) => block.replace(/[^\n]/g, ' '));
  return [...prose.matchAll(/(\*\*)?`([^`]+)`(\*\*)?/g)].map((m) => ({
    text: m[2]!.replace(/\s+/g, ' ').trim(),
    bold: Boolean(m[1] && m[3]),
    line: prose.slice(0, m.index).split('\n').length,
  }));
}
