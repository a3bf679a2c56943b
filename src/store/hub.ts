// Opening a model from the Hugging Face Hub: the form (model id, revision, token, the Hub's
// address), the file list of the commit, and the download-and-open, which runs in the engine
// worker as a model load (progress, cancel and errors are the Model area's). The token stays in
// this browser: it is sent to the Hub's address only, and kept in localStorage only when the user
// asks for it.
import { create } from 'zustand';
import { DEFAULT_HUB_URL, parseHubRef } from '../core/hub/client';
import type { HubListSummary, HubSourceSpec } from '../worker/hub';
import { loadModel } from './model-actions';
import { getClient } from './client';
import { useErrors } from './errors';
import { refreshKept } from './opfs';

const TOKEN_KEY = 'prune-studio-hf-token';
const HUB_KEY = 'prune-studio-hub-url';

function stored(key: string): string {
  try {
    return localStorage.getItem(key) ?? '';
  } catch {
    return '';
  }
}

function store(key: string, value: string | null): void {
  try {
    if (value) localStorage.setItem(key, value);
    else localStorage.removeItem(key);
  } catch {
    // Storage unavailable (private mode): the value lives for this page only.
  }
}

interface HubState {
  id: string;
  revision: string;
  token: string;
  rememberToken: boolean;
  hubUrl: string;
  listing: HubListSummary | null;
  listingFor: string | null;
  busy: 'list' | null;
  set(patch: Partial<Omit<HubState, 'set'>>): void;
}

export const useHub = create<HubState>()((set) => ({
  id: '',
  revision: '',
  token: stored(TOKEN_KEY),
  rememberToken: stored(TOKEN_KEY) !== '',
  hubUrl: stored(HUB_KEY) || DEFAULT_HUB_URL,
  listing: null,
  listingFor: null,
  busy: null,
  set: (patch) => set(patch),
}));

function spec(): HubSourceSpec {
  const s = useHub.getState();
  return { id: s.id.trim(), revision: s.revision.trim() || undefined, token: s.token.trim() || undefined, hubUrl: s.hubUrl.trim() || DEFAULT_HUB_URL };
}

const key = (sp: HubSourceSpec) => JSON.stringify([sp.id, sp.revision ?? '', sp.hubUrl]);

/** Keep or forget the token and the Hub's address as the user chose. */
function remember(): void {
  const s = useHub.getState();
  store(TOKEN_KEY, s.rememberToken ? s.token.trim() : null);
  store(HUB_KEY, s.hubUrl.trim() && s.hubUrl.trim() !== DEFAULT_HUB_URL ? s.hubUrl.trim() : null);
}

/** The commit and the file list, with the bytes a load would download. */
export async function findHubModel(): Promise<void> {
  const errors = useErrors.getState();
  errors.clearError('hub');
  const sp = spec();
  try {
    parseHubRef(sp.id, sp.revision);
  } catch (e) {
    errors.setError('hub', e);
    return;
  }
  remember();
  useHub.getState().set({ busy: 'list', listing: null, listingFor: null });
  try {
    const listing = await getClient().call({ type: 'hubList', spec: sp });
    useHub.getState().set({ listing, listingFor: key(sp) });
  } catch (e) {
    errors.setError('hub', e);
  } finally {
    useHub.getState().set({ busy: null });
  }
}

/** Download what is missing (resuming any earlier part) and load the model. */
export async function openHubModel(): Promise<void> {
  const errors = useErrors.getState();
  errors.clearError('hub');
  const sp = spec();
  let ref;
  try {
    ref = parseHubRef(sp.id, sp.revision);
  } catch (e) {
    errors.setError('hub', e);
    return;
  }
  remember();
  await loadModel({ kind: 'hub', ...sp }, `Hugging Face Hub: ${ref.repo}@${ref.revision}`);
  await refreshKept();
}

/** The listing shown belongs to the form as it is now. */
export function listingIsCurrent(s: HubState): boolean {
  return s.listing !== null && s.listingFor === key({ id: s.id.trim(), revision: s.revision.trim() || undefined, hubUrl: s.hubUrl.trim() || DEFAULT_HUB_URL });
}
