/**
 * The first key a JSON text gives twice in one object (`{"tenantId":"acme","tenantId":"globex"}`), with the path of
 * that object's key, or undefined when every object's keys are distinct. RFC 8259 §4: "The names within an object
 * SHOULD be unique"; of an object whose names are not, "many implementations report the last name/value pair only",
 * others the first or an error: JSON.parse keeps the last, so a body that says a field twice was acted on with a value a
 * caller (or a proxy, a log, a reviewer reading the first) may not have meant.
 *
 * One pass over the text, with a stack of the open objects and arrays (no recursion: a body nested 100,000 deep does
 * not end the stack). `text` must be JSON that JSON.parse has taken: the scan does not check it.
 * @returns `path`: the keys and list indexes to the object holding the key twice ([] for the body itself); `key`: the key
 */
export function firstDuplicateKey(text: string): { path: (string | number)[]; key: string } | undefined {
  // Each open container: an object's keys so far and the key being read, or an array's index.
  const open: Array<{ keys?: Set<string>; at: string | number; expectKey: boolean }> = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let end = i + 1;
      while (text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      const top = open.at(-1);
      if (top?.keys && top.expectKey) {
        const key = JSON.parse(text.slice(i, end + 1)) as string;
        if (top.keys.has(key)) return { path: open.slice(0, -1).map((o) => o.at), key };
        top.keys.add(key);
        top.at = key;
        top.expectKey = false;
      }
      i = end;
    } else if (c === '{') open.push({ keys: new Set(), at: '', expectKey: true });
    else if (c === '[') open.push({ at: 0, expectKey: false });
    else if (c === '}' || c === ']') open.pop();
    else if (c === ',') {
      const top = open.at(-1);
      if (top?.keys) top.expectKey = true;
      else if (top) top.at = (top.at as number) + 1;
    }
  }
  return undefined;
}
