// The page's absolute base URL, for the files it serves (sample texts, the demo model).
/** BASE_URL may be relative, e.g. "./". */
export function baseUrl(): string {
  return new URL(import.meta.env.BASE_URL, document.baseURI).href;
}
