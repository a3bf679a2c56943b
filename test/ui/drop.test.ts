// The folder walk behind the model drop zone, with fake FileSystemEntry objects (a real folder drop
// cannot be synthesised in a browser test: webkitGetAsEntry() returns null for script-made drops).
import { describe, expect, it } from 'vitest';
import { collectDroppedFiles, filesFromInput, labelFor, snapshotDataTransfer } from '../../src/ui/drop';

/** The fields every entry has, from its path. */
function entry(fullPath: string, isFile: boolean) {
  return { isFile, isDirectory: !isFile, name: fullPath.slice(fullPath.lastIndexOf('/') + 1), fullPath };
}

function fileEntry(fullPath: string, content = 'x'): FileSystemFileEntry {
  const e = entry(fullPath, true);
  return { ...e, file: (ok: (f: File) => void) => ok(new File([content], e.name)) } as unknown as FileSystemFileEntry;
}

function dirEntry(fullPath: string, children: FileSystemEntry[], batch = 2): FileSystemDirectoryEntry {
  return {
    ...entry(fullPath, false),
    createReader: () => {
      let i = 0;
      // Like Chromium: entries come in batches until an empty one.
      return {
        readEntries: (ok: (e: FileSystemEntry[]) => void) => {
          ok(children.slice(i, i + batch));
          i += batch;
        },
      };
    },
  } as unknown as FileSystemDirectoryEntry;
}

describe('collectDroppedFiles', () => {
  it('walks a dropped folder in batches, keeps relative paths and skips hidden files', async () => {
    const root = dirEntry('/tiny', [
      fileEntry('/tiny/config.json'),
      fileEntry('/tiny/.DS_Store'),
      fileEntry('/tiny/model.safetensors'),
      fileEntry('/tiny/tokenizer.json'),
      dirEntry('/tiny/sub', [fileEntry('/tiny/sub/extra.json')]),
    ]);
    const files = await collectDroppedFiles({ entries: [root], files: [] });
    expect(files.map((f) => f.path)).toEqual([
      'tiny/config.json',
      'tiny/model.safetensors',
      'tiny/tokenizer.json',
      'tiny/sub/extra.json',
    ]);
    expect(labelFor(files)).toBe('Folder tiny');
  });

  it('takes loose files (no entries) by name', async () => {
    const files = await collectDroppedFiles({ entries: [], files: [new File(['{}'], 'config.json'), new File(['a'], 'model.safetensors')] });
    expect(files.map((f) => f.path)).toEqual(['config.json', 'model.safetensors']);
    expect(labelFor(files)).toBe('2 files');
  });
});

describe('snapshotDataTransfer', () => {
  it('falls back to getAsFile when webkitGetAsEntry gives null', () => {
    const f = new File(['x'], 'config.json');
    const dt = {
      items: [
        { kind: 'file', webkitGetAsEntry: () => null, getAsFile: () => f },
        { kind: 'string', webkitGetAsEntry: () => null, getAsFile: () => null },
      ],
      files: [f],
    } as unknown as DataTransfer;
    const snap = snapshotDataTransfer(dt);
    expect(snap.entries).toEqual([]);
    expect(snap.files).toEqual([f]);
  });
});

describe('filesFromInput', () => {
  it('uses webkitRelativePath from a folder picker', () => {
    const f = new File(['x'], 'config.json');
    Object.defineProperty(f, 'webkitRelativePath', { value: 'stories260K/config.json' });
    const list = [f, new File([''], '.hidden')] as unknown as FileList;
    expect(filesFromInput(list).map((x) => x.path)).toEqual(['stories260K/config.json']);
  });
});
