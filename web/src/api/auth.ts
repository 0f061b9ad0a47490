// The API key lives in sessionStorage: it survives a reload of the tab but
// not the tab itself, and is never written to a cookie or localStorage.
const storageKey = "kalcifer.apiKey";

/** The signed-in API key, or null. */
export function getApiKey(): string | null {
  try {
    return sessionStorage.getItem(storageKey);
  } catch {
    return null;
  }
}

/** Keeps key for this tab's session. */
export function setApiKey(key: string): void {
  sessionStorage.setItem(storageKey, key);
}

/** Forgets the key (sign out, or the server refused it). */
export function clearApiKey(): void {
  sessionStorage.removeItem(storageKey);
}
