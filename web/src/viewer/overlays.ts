import {
  ANNOUNCEMENT_DEFAULT_SECONDS,
  type AnnouncementCue,
  DROP_DEFAULT_SECONDS,
  type DropCue,
} from '../../../client/wire';
import { h } from '../dom';

/**
 * The product drop card and the announcement banner (docs/protocol.md §4.5). Each shows over the
 * quiz until its `seconds` run out; a newer one of the same kind replaces it. Everything from a
 * cue is set as text or as a checked https URL, never as HTML.
 */
export class Overlays {
  private readonly drop: Slot;
  private readonly announcement: Slot;

  constructor(container: HTMLElement) {
    const dropHost = h('div', { 'data-testid': 'drop-slot' });
    // A live region must exist before its text changes, or screen readers miss the change.
    const bannerHost = h('div', {
      role: 'status',
      'aria-live': 'polite',
      'data-testid': 'announcement-slot',
    });
    container.replaceChildren(bannerHost, dropHost);
    this.drop = new Slot(dropHost);
    this.announcement = new Slot(bannerHost);
  }

  showDrop(cue: DropCue): void {
    const { title, price } = cue.data;
    const image = httpsUrlOrUndefined(cue.data.image);
    const link = httpsUrlOrUndefined(cue.data.link);
    if (typeof title !== 'string' || typeof price !== 'string' || !link) return;
    const card = h(
      'section',
      { class: 'drop', 'aria-label': `Product drop: ${title}`, 'data-testid': 'drop' },
      image ? h('img', { src: image, alt: title, class: 'drop-image', 'data-testid': 'drop-image' }) : null,
      h('h2', { class: 'drop-title', 'data-testid': 'drop-title' }, title),
      h('p', { class: 'drop-price', 'data-testid': 'drop-price' }, price),
      h(
        'button',
        {
          type: 'button',
          class: 'drop-buy',
          'data-testid': 'drop-link',
          onclick: () => window.open(link, '_blank', 'noopener,noreferrer'),
        },
        'Get it now',
      ),
    );
    this.drop.show(card, secondsOf(cue.data.seconds, DROP_DEFAULT_SECONDS));
  }

  showAnnouncement(cue: AnnouncementCue): void {
    if (typeof cue.data.text !== 'string') return;
    const banner = h('p', { class: 'announcement', 'data-testid': 'announcement' }, cue.data.text);
    this.announcement.show(banner, secondsOf(cue.data.seconds, ANNOUNCEMENT_DEFAULT_SECONDS));
  }
}

/** One place on the page that shows one thing at a time, for a while. */
class Slot {
  private timer?: number;

  constructor(private readonly host: HTMLElement) {}

  show(content: HTMLElement, seconds: number): void {
    window.clearTimeout(this.timer);
    this.host.replaceChildren(content);
    this.timer = window.setTimeout(() => this.host.replaceChildren(), seconds * 1000);
  }
}

/** The API checked these already; the page checks again, as a cue is only ever text to it. */
function httpsUrlOrUndefined(value: unknown): string | undefined {
  if (typeof value !== 'string' || !URL.canParse(value)) return undefined;
  const url = new URL(value);
  return url.protocol === 'https:' ? url.href : undefined;
}

const secondsOf = (value: unknown, fallback: number): number =>
  typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : fallback;
